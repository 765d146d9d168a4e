using System.Runtime.Versioning;

// The tests exercise Unix file modes, symbolic links and Unix domain sockets; the fleet runs on Linux.
[assembly: UnsupportedOSPlatform("windows")]
