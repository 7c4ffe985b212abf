// Linked into the projects on the packet path (DnsWire, Capture, Reducers, Engine).
//
// C# zeroes every stackalloc buffer and the method's locals on entry unless told otherwise. The packet path
// stackallocs 255-320 byte key and name buffers in a dozen methods called per message, and never reads a byte of
// them before writing it (each is used through the length written: buffer[..n]); buffers that need zeros (a
// padded header, an address prefix, a CPU mask) clear themselves explicitly. So the zeroing is skipped here. Safe
// code still cannot read an unassigned local: the compiler's definite assignment rules are unchanged.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
