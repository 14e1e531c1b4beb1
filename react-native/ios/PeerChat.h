// The PeerChat Turbo Module (Objective-C++ glue). The work is done in Swift (PeerChatImpl.swift),
// which wraps the Swift bindings of the Rust engine.
#import <PeerChatSpec/PeerChatSpec.h>

@interface PeerChat : NativePeerChatSpecBase <NativePeerChatSpec>
@end
