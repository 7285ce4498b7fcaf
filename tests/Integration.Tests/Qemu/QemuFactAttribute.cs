using Xunit;
namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// A fact that needs the QEMU prerequisites. Outside CI it is skipped with the missing piece as reason;
/// with CI=true it runs and fails (see <see cref="QemuFixture"/>), because CI must never skip it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class QemuFactAttribute : FactAttribute
{
    public QemuFactAttribute()
    {
        if (!QemuEnvironment.IsCi && QemuEnvironment.Current.MissingReason() is { } reason)
            Skip = reason;
    }
}
