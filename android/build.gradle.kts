// peerchat Android library (AAR): the uniffi-generated Kotlin bindings and the Kotlin layer
// (shared with the JVM build in ../bindings/kotlin), JNA's Android AAR, and the Rust engine
// (crate peerchat-ffi) cross-compiled by cargo-ndk into jniLibs for arm64-v8a, armeabi-v7a and
// x86_64. See README.md.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    id("com.android.library") version "8.10.1"
    id("org.jetbrains.kotlin.android") version "2.2.10"
}

/** The Cargo workspace root (this directory's parent). */
val repoRoot: File = rootDir.parentFile

/** Android ABIs the AAR ships, as cargo-ndk names them (it maps each to its Rust target). */
val rustAbis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

/** Lowest Android API level supported; also the API level cargo-ndk links against. */
val minApi = 24

/** Cargo profile of the native libraries: `-PrustProfile=dev` for a fast debug build. */
val rustProfile: String = (findProperty("rustProfile") as String?) ?: "release"

/** Where cargo-ndk writes `<abi>/libpeerchat_ffi.so`; added to the jniLibs source set. */
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")

android {
    namespace = "dev.peerchat"
    compileSdk = 36
    // cargo-ndk uses this NDK (passed as ANDROID_NDK_HOME); install it with the SDK manager.
    ndkVersion = "27.3.13750724"

    defaultConfig {
        minSdk = minApi
        consumerProguardFiles("consumer-rules.pro")
        ndk { abiFilters += rustAbis }
    }

    sourceSets["main"].apply {
        // One source of truth with the JVM build: generated bindings + the dev.peerchat layer.
        java.srcDirs(
            repoRoot.resolve("bindings/kotlin/generated"),
            repoRoot.resolve("bindings/kotlin/src/main/kotlin"),
            // Android-only: PeerChatLifecycle (process lifecycle + default network callback).
            "src/main/kotlin",
        )
        jniLibs.srcDir(rustJniLibs)
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    lint {
        // The generated bindings reference java.lang.ref.Cleaner (API 33) only after checking
        // at run time that it exists, falling back to JNA's cleaner below API 33.
        disable += "NewApi"
    }
}

kotlin {
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

dependencies {
    // uniffi's Kotlin calls the native library through JNA; the AAR carries libjnidispatch.so
    // for every Android ABI.
    implementation("net.java.dev.jna:jna:5.18.1@aar")
    // The public API exposes Flow and suspend functions.
    api("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.2")
    // PeerChatLifecycle follows ProcessLifecycleOwner (its constructor takes a LifecycleOwner).
    api("androidx.lifecycle:lifecycle-process:2.8.7")
}

/**
 * Cross-compiles peerchat-ffi for every ABI with cargo-ndk (`cargo install cargo-ndk`,
 * `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`).
 */
val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libpeerchat_ffi.so for ${rustAbis.joinToString()} with cargo-ndk."
    workingDir = repoRoot
    inputs.files(fileTree(repoRoot) {
        include("Cargo.toml", "Cargo.lock", "core/**", "bindings/Cargo.toml", "bindings/src/**")
        exclude("**/target/**")
    })
    inputs.property("profile", rustProfile)
    outputs.dir(rustJniLibs)
    val ndkDirectory = androidComponents.sdkComponents.ndkDirectory
    doFirst {
        environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.absolutePath)
    }
    commandLine(
        buildList {
            addAll(listOf("cargo", "ndk"))
            rustAbis.forEach { addAll(listOf("-t", it)) }
            addAll(listOf("--platform", minApi.toString()))
            addAll(listOf("-o", rustJniLibs.get().asFile.absolutePath))
            addAll(listOf("build", "--locked", "-p", "peerchat-ffi", "--profile", rustProfile))
        },
    )
}

tasks.named("preBuild") { dependsOn(cargoNdkBuild) }
