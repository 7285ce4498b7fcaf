using System.Runtime.InteropServices;
using Tmds.Linux;

namespace VhsaKmt.Native.Interop;

/// <summary>
/// A libc call failed for a host reason (not guest input); carries errno and the call. An <see cref="IOException"/>
/// so that callers handling I/O failures (the vhost-user transport, the test VMM) catch it with the rest.
/// </summary>
public sealed class LibcException : IOException
{
    public LibcException(string call, int errno)
        : base($"{call} failed: errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})")
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }
    public int Errno { get; }

    /// <summary>For the current errno (read it right after the failing call, before anything else can change it).</summary>
    public static LibcException FromErrno(string call) => new(call, LibC.errno);
}
