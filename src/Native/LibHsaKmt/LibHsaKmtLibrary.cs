using System.Runtime.InteropServices;
using VhsaKmt.Native.LibHsaKmt.Abi;

namespace VhsaKmt.Native.LibHsaKmt;

/// <summary>What the installed libhsakmt offers: loadable or not, which entry points exist, which ABI profile.</summary>
public sealed record LibHsaKmtProbe(
    bool Loaded,
    string? LoadError,
    IReadOnlyList<string> MissingRequired,
    IReadOnlySet<string> AvailableOptional,
    HsaAbiProfile Profile,
    bool KfdDevicePresent,
    string? DeviceError)
{
    /// <summary>Library loadable with every required export and /dev/kfd openable.</summary>
    public bool Usable => Loaded && MissingRequired.Count == 0 && KfdDevicePresent;

    /// <summary>Why the backend cannot be used, or null.</summary>
    public string? Reason =>
        !Loaded ? $"{HsaKmtNative.Library} not loadable: {LoadError}"
        : MissingRequired.Count > 0 ? $"{HsaKmtNative.Library} lacks {string.Join(", ", MissingRequired)}"
        : !KfdDevicePresent ? $"/dev/kfd not usable: {DeviceError}"
        : null;

    public bool Has(string export) => AvailableOptional.Contains(export);
}

/// <summary>Probes libhsakmt.so.1 with NativeLibrary.TryLoad/TryGetExport, without calling into it.</summary>
public static class LibHsaKmtLibrary
{
    public const string KfdDevice = "/dev/kfd";

    /// <param name="profile">"auto" picks H25 when the library exports hsaKmtCreateQueueExt (ROCm 6.2+), else D523.</param>
    public static LibHsaKmtProbe Probe(string profile = "auto", string device = KfdDevice)
    {
        var (present, deviceError) = CheckDevice(device);
        if (!NativeLibrary.TryLoad(HsaKmtNative.Library, typeof(LibHsaKmtLibrary).Assembly, null, out var handle))
            return new LibHsaKmtProbe(false, "dlopen failed (is libhsakmt1 installed?)", [], new HashSet<string>(), HsaAbiProfile.D523, present, deviceError);
        try
        {
            var missing = HsaKmtExports.Required.Where(e => !NativeLibrary.TryGetExport(handle, e, out _)).ToList();
            var optional = HsaKmtExports.Optional.Where(e => NativeLibrary.TryGetExport(handle, e, out _)).ToHashSet();
            var abi = profile.ToLowerInvariant() switch
            {
                "d523" => HsaAbiProfile.D523,
                "h25" => HsaAbiProfile.H25,
                "auto" => optional.Contains("hsaKmtCreateQueueExt") ? HsaAbiProfile.H25 : HsaAbiProfile.D523,
                _ => throw new ArgumentException($"unknown libhsakmt ABI profile '{profile}' (auto|d523|h25)"),
            };
            return new LibHsaKmtProbe(true, null, missing, optional, abi, present, deviceError);
        }
        finally
        {
            // The runtime keeps its own reference for [LibraryImport]; this probe's reference is dropped.
            NativeLibrary.Free(handle);
        }
    }

    private static (bool Present, string? Error) CheckDevice(string device)
    {
        try
        {
            using var fs = new FileStream(device, FileMode.Open, FileAccess.ReadWrite);
            return (true, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (false, e.Message);
        }
    }
}
