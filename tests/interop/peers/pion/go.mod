module peerchat.dev/interop/pion

go 1.24
