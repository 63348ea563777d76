# The kubelet fork kit (mk/kubelet.mk): fork.sh and kubelet/test.sh compare
# trees and checksums, and check the kubelet's ldd. Go 1.24+ itself is a
# prerequisite of the Go binding (mk/go.mk), as cargo is of the library.
want pkg-config pkg-config
want sha256sum coreutils
want cmp diffutils
want diff diffutils
want ldd libc-bin
want find findutils
