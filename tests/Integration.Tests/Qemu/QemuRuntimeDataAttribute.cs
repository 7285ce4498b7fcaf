using System.Reflection;
using Xunit.Sdk;

namespace VhsaKmt.Integration.Tests.Qemu;

/// <summary>
/// One row of a QEMU theory: the <see cref="QemuRuntime"/> to run it with. Like <see cref="QemuFactAttribute"/>,
/// a row whose QEMU is missing is skipped with the reason outside CI and runs (and fails) with CI=true.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class QemuRuntimeDataAttribute : DataAttribute
{
    private readonly QemuRuntime _runtime;

    public QemuRuntimeDataAttribute(QemuRuntime runtime)
    {
        _runtime = runtime;
        if (!QemuEnvironment.IsCi && QemuEnvironment.Current.MissingReason(runtime) is { } reason)
            Skip = reason;
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[_runtime]];
}
