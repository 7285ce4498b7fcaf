using Tmds.Linux;

namespace VhsaKmt.Transport.Interop;

/// <summary>A libc call failed; carries the call name and errno.</summary>
public sealed class LibcException : IOException
{
    public LibcException(string call, int errno)
        : base($"{call} failed: errno {errno} ({Describe(errno)})")
    {
        Call = call;
        Errno = errno;
    }

    public string Call { get; }
    public int Errno { get; }

    /// <summary>Throw for the current errno.</summary>
    public static LibcException FromErrno(string call) => new(call, LibC.errno);

    private static string Describe(int errno) =>
        System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
}
