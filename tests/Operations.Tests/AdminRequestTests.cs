using VhsaKmt.Actors.Admin;
using Xunit;

namespace VhsaKmt.Operations.Tests;

public sealed class AdminRequestTests
{
    [Theory]
    [InlineData("{\"cmd\":\"status\"}", "status", null, 0u)]
    [InlineData("  health  ", "health", null, 0u)]
    [InlineData("{\"cmd\":\"kill-context\",\"vm\":\"vm-2\",\"ctx\":7}", "kill-context", "vm-2", 7u)]
    [InlineData("kill-context vm-3 4294967295", "kill-context", "vm-3", 4294967295u)]
    public void Valid_requests_parse(string line, string cmd, string? vm, uint ctx)
    {
        var r = AdminRequest.Parse(line, out var error);
        Assert.Null(error);
        Assert.Equal(new AdminRequest(cmd, vm, ctx), r);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("[1,2]", "unknown command")]
    [InlineData("{\"cmd\":3}", "\"cmd\"")]
    [InlineData("{\"cmd\":\"status\"", "malformed JSON")]
    [InlineData("{\"cmd\":\"kill-context\",\"vm\":\"vm-1\"}", "ctx")]
    [InlineData("{\"cmd\":\"kill-context\",\"ctx\":1}", "vm")]
    [InlineData("{\"cmd\":\"kill-context\",\"vm\":\"vm-1\",\"ctx\":4294967296}", "unsigned 32-bit")]
    [InlineData("kill-context vm-1 -1", "usage")]
    [InlineData("status now", "takes no arguments")]
    [InlineData("shutdown", "unknown command")]
    public void Invalid_requests_are_refused_with_a_reason(string line, string reasonPart)
    {
        Assert.Null(AdminRequest.Parse(line, out var error));
        Assert.Contains(reasonPart, error);
    }

    [Fact]
    public void Overlong_request_is_refused()
    {
        Assert.Null(AdminRequest.Parse("{\"cmd\":\"" + new string('x', AdminRequest.MaxLineLength) + "\"}", out var error));
        Assert.Contains("longer than", error);
    }
}
