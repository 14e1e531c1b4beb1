require "json"

package = JSON.parse(File.read(File.join(__dir__, "package.json")))

# The Swift bindings of the Rust engine (uniffi: peerchat_ffi.swift, the peerchat_ffiFFI C
# header/modulemap, and the static library or XCFramework) are expected in ios/bindings/,
# produced by the peerchat repository's bindings/ build.
Pod::Spec.new do |s|
  s.name         = "PeerChat"
  s.module_name  = "react_native_peerchat"
  s.version      = package["version"]
  s.summary      = package["description"]
  s.homepage     = "https://github.com/peerchat/peerchat"
  s.license      = package["license"]
  s.authors      = "peerchat"
  s.platforms    = { :ios => min_ios_version_supported }
  s.source       = { :git => "https://github.com/peerchat/peerchat.git", :tag => "#{s.version}" }

  s.source_files = "ios/**/*.{h,m,mm,swift}"
  s.private_header_files = "ios/**/*.h"
  s.swift_version = "5.9"
  s.vendored_frameworks = "ios/bindings/PeerchatFfi.xcframework"
  s.preserve_paths = "ios/bindings/**/*"
  s.pod_target_xcconfig = {
    "SWIFT_INCLUDE_PATHS" => "$(PODS_TARGET_SRCROOT)/ios/bindings",
    "DEFINES_MODULE" => "YES",
  }

  install_modules_dependencies(s)
end
