using System.Net.Sockets;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

public sealed class InheritedSocketPathTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vhsakmt-fdpath-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FindsThePathOfABoundListeningSocket()
    {
        var path = Path.Combine(_dir, "with space.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();

        Assert.Equal(path, InheritedSocketPath.Find((int)listener.SafeHandle.DangerousGetHandle()));
    }

    [Fact]
    public void NotASocketOrNotOpenGivesNull()
    {
        using var file = File.Create(Path.Combine(_dir, "plain"));
        Assert.Null(InheritedSocketPath.Find((int)file.SafeFileHandle.DangerousGetHandle()));
        Assert.Null(InheritedSocketPath.Find(987654));
    }

    [Fact]
    public void NetUnixLinesAreMatchedOnTheInodeColumn()
    {
        string[] lines =
        [
            "Num       RefCount Protocol Flags    Type St Inode Path",
            "00000000b9ff93ed: 00000002 00000000 00010000 0001 01 565544 /run/other.sock",
            "00000000be665110: 00000002 00000000 00010000 0001 01 42 @abstract",
            "00000000be665111: 00000002 00000000 00010000 0001 01 43",
            "00000000be665112: 00000002 00000000 00010000 0001 01 44 /run/vhsakmt/vhsakmt.sock",
        ];
        Assert.Equal("/run/vhsakmt/vhsakmt.sock", InheritedSocketPath.FromNetUnix(lines, "44"));
        Assert.Null(InheritedSocketPath.FromNetUnix(lines, "42")); // abstract: no file to name
        Assert.Null(InheritedSocketPath.FromNetUnix(lines, "43")); // unbound
        Assert.Null(InheritedSocketPath.FromNetUnix(lines, "5655"));
    }
}
