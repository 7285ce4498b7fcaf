using System.ComponentModel;

namespace VhsaKmt.Native.Interop;

/// <summary>A libc call failed for a host reason (not guest input); carries errno and the call.</summary>
public sealed class LibcException : Win32Exception
{
    public LibcException(string call, int errno)
        : base(errno, $"{call} failed: errno {errno} ({new Win32Exception(errno).Message})")
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }
    public int Errno { get; }
}
