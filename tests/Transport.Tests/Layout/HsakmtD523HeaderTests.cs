using System.Numerics;
using System.Reflection;
using VhsaKmt.Native.Hsa;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// src/Native/Hsa (profile H25) against the only hsakmttypes.h on the machine: Debian libhsakmt-dev 5.2.3
/// (profile D523, older). Where both profiles agree the whole C# layout is compared; where they differ
/// (PROTOCOL.md §0.1, §4.8, §4.9) the shared prefix is compared and the D523 values are asserted, so the
/// difference is pinned rather than ignored.
/// </summary>
public sealed class HsakmtD523HeaderTests
{
    private const Needs Requires = Needs.Gcc | Needs.Hsakmt;
    private const string Truth = "hsakmttypes.h (Debian 5.2.3, D523)";

    /// <summary>Types whose every C# field has the same offset and size in D523 as in H25 (§4.9 lists no difference).</summary>
    private static readonly Type[] SameLayout =
    [
        typeof(HsaSystemProperties), typeof(HsaVersionInfo), typeof(HsaClockCounters), typeof(HsaMemoryProperties),
        typeof(HsaCacheProperties), typeof(HsaEvent), typeof(HsaEventData), typeof(HsaEventDescriptor), typeof(HsaSyncVar),
        typeof(HsaQueueResource), typeof(HsaPointerInfo), typeof(HsaGraphicsResourceInfo), typeof(HsaQueueInfo),
        typeof(HsaGpuTileConfig), typeof(HsaMemoryAccessFault), typeof(HsaDeviceStateChange), typeof(HsaNodeChange),
        typeof(HsaMemFlags), typeof(HSA_CAPABILITY), typeof(HSA_DEBUG_PROPERTIES), typeof(HSA_ENGINE_ID),
        typeof(HSA_ENGINE_VERSION),
    ];

    /// <summary>Where D523 differs from H25, and how the test pins it.</summary>
    private static readonly Dictionary<Type, string> Differs = new()
    {
        [typeof(HsaNodeProperties)] = "356 vs 368 bytes: no NumNeuralCores, Capability2, OverrideEngineId, Integrated, NumXcc, " +
                                      "KFDGpuID, FamilyID; every later field moves (offsets pinned from PROTOCOL.md §4.8's D523 column)",
        [typeof(HsaIoLinkProperties)] = "48 vs 52 bytes: no RecSdmaEngIdMask, Flags at 44 instead of 48 (shared prefix compared)",
        [typeof(HsaMemFlags)] = "lacks bits 18-23 (NoAddress, OnlyAddress, ExtendedCoherent, GTTAccess, Contiguous, ExecuteBlit)",
        [typeof(HSA_CAPABILITY)] = "lacks bits 30-31 (PreciseALUOperationsSupported, PerQueueResetSupported)",
        [typeof(HSA_CAPABILITY2)] = "type absent in D523",
        [typeof(HsaHwException)] = "type absent in D523",
        [typeof(HsaAccessAttributeFailure)] = "C type is bitfields only (no Value member): only its bits are compared",
    };

    /// <summary>Bitfield types: C path prefix of the bits in an object, and the C# bit constants D523 lacks.</summary>
    private static readonly (Type Clr, string Prefix, string[] MissingInD523)[] BitfieldTypes =
    [
        (typeof(HsaMemFlags), "ui32.", ["NoAddress", "OnlyAddress", "ExtendedCoherent", "GTTAccess", "Contiguous", "ExecuteBlit"]),
        (typeof(HSA_CAPABILITY), "ui32.", ["PreciseALUOperationsSupported", "PerQueueResetSupported"]),
        (typeof(HSA_ENGINE_ID), "ui32.", []),
        (typeof(HSA_ENGINE_VERSION), "", []),
        (typeof(HSA_DEBUG_PROPERTIES), "", []),
        (typeof(HsaAccessAttributeFailure), "", []),
    ];

    private static readonly string[] IoLinkOnlyInH25 = [nameof(HsaIoLinkProperties.RecSdmaEngIdMask)];

    /// <summary>Same-layout types with a member D523 names differently (compared separately, see the facts below).</summary>
    private static readonly Dictionary<Type, string[]> RenamedInD523 = new()
    {
        [typeof(HsaGraphicsResourceInfo)] = [nameof(HsaGraphicsResourceInfo.NodeId)], // D523: HSAuint32 Reserved @28
    };

    private static IEnumerable<string> ComparableFields(Type t) =>
        HeaderLayout.FieldNames(t).Except(RenamedInD523.GetValueOrDefault(t, []));

    private static readonly Lazy<CProbeResult> Probe = new(() =>
    {
        var p = new CProbe("hsakmt_d523_layout", ["hsakmttypes.h"]);
        foreach (var t in SameLayout)
            HeaderLayout.Add(p, t.Name, ComparableFields(t));
        p.Field(nameof(HsaGraphicsResourceInfo), "Reserved");
        HeaderLayout.Add(p, nameof(HsaIoLinkProperties), HeaderLayout.FieldNames(typeof(HsaIoLinkProperties)).Except(IoLinkOnlyInH25));
        var (rows, _) = ProtocolTables.NodePropertiesProfiles();
        HeaderLayout.Add(p, nameof(HsaNodeProperties), rows.Where(r => r.Offsets["D523"] is not null).Select(r => r.Field));
        foreach (var (clr, prefix, missing) in BitfieldTypes)
        {
            p.Size(clr.Name);
            foreach (var (name, _) in BitConstants(clr).Where(b => !missing.Contains(b.Name)))
                p.Bit(clr.Name, prefix + name);
        }
        return p.Run();
    });

    /// <summary>Bit constants of a C# bitfield type: masks (uint/ulong NAME) and shifts (int NAMEShift), as (name, bit).</summary>
    private static IEnumerable<(string Name, int Bit)> BitConstants(Type t)
    {
        foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            var v = f.GetRawConstantValue();
            if (v is uint or ulong)
            {
                var mask = Convert.ToUInt64(v, System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(BitOperations.PopCount(mask) == 1, $"{t.Name}.{f.Name} = 0x{mask:x} is not a single-bit mask");
                yield return (f.Name, BitOperations.TrailingZeroCount(mask));
            }
            else if (v is int shift && f.Name.EndsWith("Shift", StringComparison.Ordinal))
            {
                yield return (f.Name[..^"Shift".Length], shift);
            }
        }
    }

    public static TheoryData<string> SameLayoutTypes() => new(SameLayout.Select(t => t.Name));

    [NeedsTheory(Requires | Needs.SharedSpec)]
    [MemberData(nameof(SameLayoutTypes))]
    public void Type_matches_d523_header(string typeName)
    {
        Prerequisites.Require(Requires | Needs.SharedSpec);
        var clr = SameLayout.Single(t => t.Name == typeName);
        HeaderLayout.Compare(Probe.Value, typeName, clr, Truth, ComparableFields(clr)).AssertNoErrors();
    }

    [NeedsFact(Requires | Needs.SharedSpec)]
    public void Graphics_resource_info_node_id_is_reserved_in_d523()
    {
        Prerequisites.Require(Requires | Needs.SharedSpec);
        // H25 turned D523's "HSAuint32 Reserved" into NodeId at the same place; the layout did not move.
        const string c = nameof(HsaGraphicsResourceInfo);
        var nodeId = typeof(HsaGraphicsResourceInfo).GetField(nameof(HsaGraphicsResourceInfo.NodeId))!;
        Assert.Equal(ClrLayout.OffsetOf(nodeId), Probe.Value.Offset(c, "Reserved"));
        Assert.Equal(ClrLayout.SizeOf(nodeId.FieldType), Probe.Value.FieldSize(c, "Reserved"));
    }

    [Fact]
    public void Every_modelled_hsa_type_is_compared_or_its_difference_stated()
    {
        // Every struct in the HSA namespace whose doc names the C type it models.
        var hsaTypes = CTypeIndex.ByCName.Values.Where(t => t.Namespace == typeof(HsaEvent).Namespace).ToList();
        Assert.True(hsaTypes.Count >= 27, $"only {hsaTypes.Count} HSA types found");
        var unaccounted = hsaTypes.Where(t => !SameLayout.Contains(t) && !Differs.ContainsKey(t)).Select(t => t.Name).ToList();
        Assert.True(unaccounted.Count == 0, "HSA types neither compared with D523 nor listed as differing: " + string.Join(", ", unaccounted));
    }

    [NeedsFact(Requires | Needs.SharedSpec)]
    public void Io_link_properties_share_the_prefix_and_pin_the_d523_difference()
    {
        Prerequisites.Require(Requires | Needs.SharedSpec);
        var t = typeof(HsaIoLinkProperties);
        var prefix = HeaderLayout.FieldNames(t).Except(IoLinkOnlyInH25).Except([nameof(HsaIoLinkProperties.Flags)]);
        HeaderLayout.Compare(Probe.Value, t.Name, t, Truth, prefix, compareSize: false).AssertNoErrors();

        // D523 (PROTOCOL.md §4.9): 48 bytes, Flags right after RecTransferSize; H25 inserts RecSdmaEngIdMask at 44.
        Assert.Equal(48, Probe.Value.Size(t.Name));
        Assert.Equal(44, Probe.Value.Offset(t.Name, nameof(HsaIoLinkProperties.Flags)));
        Assert.Equal(52, HsaIoLinkProperties.Size);
        Assert.Equal(44, ClrLayout.OffsetOf(t.GetField(nameof(HsaIoLinkProperties.RecSdmaEngIdMask))!));
        Assert.Equal(48, ClrLayout.OffsetOf(t.GetField(nameof(HsaIoLinkProperties.Flags))!));
    }

    [NeedsFact(Requires | Needs.SharedSpec)]
    public void Node_properties_match_the_d523_column_of_the_profile_table()
    {
        Prerequisites.Require(Requires | Needs.SharedSpec);
        var (rows, sizes) = ProtocolTables.NodePropertiesProfiles();
        const string c = nameof(HsaNodeProperties);
        var errors = new List<string>();
        if (Probe.Value.Size(c) != sizes["D523"])
            errors.Add($"sizeof: D523 header {Probe.Value.Size(c)}, PROTOCOL.md D523 {sizes["D523"]}");
        foreach (var row in rows.Where(r => r.Offsets["D523"] is not null))
        {
            if (Probe.Value.Offset(c, row.Field) != row.Offsets["D523"])
                errors.Add($"{row.Field}: D523 header offset {Probe.Value.Offset(c, row.Field)}, PROTOCOL.md D523 {row.Offsets["D523"]}");
            if (Probe.Value.FieldSize(c, row.Field) != row.Size)
                errors.Add($"{row.Field}: D523 header size {Probe.Value.FieldSize(c, row.Field)}, PROTOCOL.md {row.Size}");
        }
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        // The C# struct is H25, so it must differ from D523 exactly where the table says.
        Assert.NotEqual(HsaNodeProperties.Size, sizes["D523"]);
        var absentInD523 = rows.Where(r => r.Offsets["D523"] is null && r.Offsets["H25"] is not null).Select(r => r.Field).ToList();
        Assert.Equal(["NumNeuralCores", "Capability2", "OverrideEngineId", "Integrated", "NumXcc", "KFDGpuID", "FamilyID"], absentInD523);
    }

    public static TheoryData<string> BitfieldTypeNames() => new(BitfieldTypes.Select(b => b.Clr.Name));

    [NeedsTheory(Requires | Needs.SharedSpec)]
    [MemberData(nameof(BitfieldTypeNames))]
    public void Bit_positions_match_d523_header(string typeName)
    {
        Prerequisites.Require(Requires | Needs.SharedSpec);
        var (clr, prefix, missing) = BitfieldTypes.Single(b => b.Clr.Name == typeName);
        var bits = BitConstants(clr).ToList();
        Assert.NotEmpty(bits);
        var errors = new List<string>();
        if (Probe.Value.Size(typeName) != ClrLayout.SizeOf(clr))
            errors.Add($"sizeof: D523 {Probe.Value.Size(typeName)}, C# {ClrLayout.SizeOf(clr)}");
        foreach (var (name, bit) in bits.Where(b => !missing.Contains(b.Name)))
        {
            var d523 = Probe.Value.Bit(typeName, prefix + name);
            if (d523 != bit)
                errors.Add($"{name}: C# bit {bit}, D523 bit {d523}");
        }
        // Bits only H25 has sit above everything D523 defines (they were appended, nothing moved).
        var d523Max = bits.Where(b => !missing.Contains(b.Name)).Max(b => b.Bit);
        foreach (var (name, bit) in bits.Where(b => missing.Contains(b.Name)))
            if (bit <= d523Max)
                errors.Add($"{name}: H25-only bit {bit} is not above D523's highest modelled bit {d523Max}");
        Assert.True(errors.Count == 0, $"{typeName} vs {Truth}:\n" + string.Join("\n", errors));
    }
}
