require "json"

package = JSON.parse(File.read(File.join(__dir__, "package.json")))

# The Swift bindings of the Rust engine are expected in ios/bindings/ (copied from the peerchat
# repository, see README.md "Native bindings"):
#   PeerChatBindings.swift     = ios/Sources/PeerChat/PeerChat.swift (uniffi-generated; compiled
#                                into this pod, so Engine, EngineConfig, … need no import)
#   Headers/PeerChatFFI.h, Headers/module.modulemap = ios/Headers/* (the C module PeerChatFFI
#                                that the generated Swift imports)
#   PeerChatFFI.xcframework    built by ios/build-xcframework.sh (static libpeerchat_ffi.a)
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
  s.exclude_files = "ios/bindings/Headers/**"
  s.vendored_frameworks = "ios/bindings/PeerChatFFI.xcframework"
  s.preserve_paths = "ios/bindings/**/*"
  s.pod_target_xcconfig = {
    "SWIFT_INCLUDE_PATHS" => "$(PODS_TARGET_SRCROOT)/ios/bindings/Headers",
    "DEFINES_MODULE" => "YES",
  }

  install_modules_dependencies(s)
end
