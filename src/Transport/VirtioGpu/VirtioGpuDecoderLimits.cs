namespace VhsaKmt.Transport.VirtioGpu;

/// <summary>Upper bounds the decoder enforces on guest-chosen sizes (from HOCON <c>vhsakmt.device</c>).</summary>
/// <param name="MaxSubmitBytes">Largest SUBMIT_3D payload copied; larger ones are refused (ERR_INVALID_PARAMETER).</param>
/// <param name="MaxMemEntries">Largest nr_entries of CREATE_BLOB / ATTACH_BACKING (QEMU uses 16384).</param>
public sealed record VirtioGpuDecoderLimits(int MaxSubmitBytes, int MaxMemEntries)
{
    public static VirtioGpuDecoderLimits Default { get; } = new(1 << 20, 16384);
}
