using System.Text.RegularExpressions;
using Xunit;

namespace VhsaKmt.Daemon.Tests;

/// <summary>The README's two commands are the ones the daemon and CI really use.</summary>
public sealed partial class ReadmeAndCiTests
{
    /// <summary>The single-line fenced block that follows <paramref name="lead"/> in the README.</summary>
    private static string CommandAfter(string lead)
    {
        var readme = File.ReadAllText(RepoFiles.Path("README.md"));
        var at = readme.IndexOf(lead, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README has no '{lead}'");
        var block = FencedBlock().Match(readme, at);
        Assert.True(block.Success, $"no command block after '{lead}'");
        return block.Groups[1].Value.Trim();
    }

    [Fact]
    public void CiRunsExactlyTheReadmeTestCommand()
    {
        var readme = CommandAfter("Run the tests:");
        var ci = File.ReadAllLines(RepoFiles.Path(".ci/run")).Single(l => l.StartsWith("TEST_CMD=(", StringComparison.Ordinal));
        Assert.Equal($"TEST_CMD=({readme})", ci);
    }

    [Fact]
    public void ReadmeRunCommandParsesAsADaemonCommandLine()
    {
        var command = CommandAfter("Run the daemon:").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["dotnet", "run", "--project", "src/Daemon", "--"], command[..5]);
        var args = CommandLineParser.Parse(command[5..], out var error);
        Assert.Null(error);
        Assert.Equal(DaemonAction.Run, args!.Action);
        Assert.NotNull(args.SocketPath);
    }

    [GeneratedRegex(@"```\n([^`\n]+)\n```")]
    private static partial Regex FencedBlock();
}
