// fallbackctl: command-line client for fallbackd. The commands live in FallbackCtl.swift and friends.
FallbackCtl.main()
