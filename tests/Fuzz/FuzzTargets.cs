using VhsaKmt.Fuzz.Targets;

namespace VhsaKmt.Fuzz;

/// <summary>Every fuzz target by name (created on demand: some own an actor system or a VA reservation).</summary>
public static class FuzzTargets
{
    public static readonly IReadOnlyDictionary<string, Func<IFuzzTarget>> All = new Dictionary<string, Func<IFuzzTarget>>
    {
        ["vhost-user"] = () => new VhostUserTarget(),
        ["chain-walker"] = () => new ChainWalkerTarget(),
        ["virtio-gpu-decoder"] = () => new VirtioGpuDecoderTarget(),
        ["ccmd-stream"] = () => new CcmdStreamTarget(),
    };
}
