using VhsaKmt.Transport.Hsakmt;
using Xunit;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// Every C# struct whose doc names a type of shared/spec/layouts/gnew-h25.json (measured from the real guest
/// headers) must have that type's size, and every top-level member as a same-named field at the same offset
/// and size; bitfields are checked through the struct's bit constants; the ccmd enums through CcmdIds.cs.
/// </summary>
public sealed class JsonLayoutTests
{
    public static TheoryData<string> GNewTypes()
    {
        var data = new TheoryData<string>();
        if (Prerequisites.Missing(Needs.SharedSpec) is not null)
            return data; // only reached in CI, where the theory then fails for lack of rows
        foreach (var cName in CTypeIndex.ByCName.Keys.Where(LayoutFacts.GNew.Types.ContainsKey).Order(StringComparer.Ordinal))
            data.Add(cName);
        return data;
    }

    [NeedsTheory(Needs.SharedSpec)]
    [MemberData(nameof(GNewTypes))]
    public void Struct_matches_gnew_h25_json(string cName)
    {
        Prerequisites.Require(Needs.SharedSpec);
        var check = JsonLayout.Check(CTypeIndex.ByCName[cName], LayoutFacts.GNew.Types[cName], "gnew-h25.json");
        check.AssertNoErrors();
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Every_modelled_protocol_struct_is_checked()
    {
        Prerequisites.Require(Needs.SharedSpec);
        var checkedNames = CTypeIndex.ByCName.Keys.Where(LayoutFacts.GNew.Types.ContainsKey).ToHashSet();
        // The request/response structs of every ccmd family and the framing structs are what the guest sends;
        // each must have a C# model that the theory above checks.
        var wire = LayoutFacts.GNew.Types.Keys.Where(k =>
            k.StartsWith("struct vhsakmt_ccmd_", StringComparison.Ordinal) ||
            k.StartsWith("struct virtio_gpu_ccmd_", StringComparison.Ordinal) ||
            k.StartsWith("struct virtio_gpu_shmem", StringComparison.Ordinal) ||
            k == "struct virgl_renderer_capset_hsakmt");
        var unmodelled = wire.Where(k => !checkedNames.Contains(k)).ToList();
        Assert.True(unmodelled.Count == 0, "wire structs without a C# model: " + string.Join(", ", unmodelled));
        Assert.True(checkedNames.Count >= 80, $"only {checkedNames.Count} C# structs map to gnew-h25.json types");
    }

    [NeedsFact(Needs.SharedSpec)]
    public void GInit_structs_match_ginit_h25_json()
    {
        Prerequisites.Require(Needs.SharedSpec);
        // G-init differs from G-new in the MEMORY request (80 bytes: blob_id@64, type@72, res_id@76), its alloc
        // args (24), the MEMORY response (24) and the QUEUE response (96). The structs that model it live in
        // src/Transport/Hsakmt/GInit*.cs; until someone writes them there is nothing to compare (no rows, no failure).
        var facts = LayoutFacts.GInit;
        Assert.Equal(80, facts.Types["struct vhsakmt_ccmd_memory_req"].Size);
        var errors = new List<string>();
        foreach (var (cName, clr) in CTypeIndex.GInitByCName)
        {
            if (!facts.Types.TryGetValue(cName, out var c))
            {
                errors.Add($"{clr.FullName}: C type {cName} is not in ginit-h25.json");
                continue;
            }
            var check = JsonLayout.Check(clr, c, "ginit-h25.json");
            errors.AddRange(check.Errors.Select(e => $"{clr.FullName}: {e}"));
        }
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    public static TheoryData<string, string, string> Enums() => new()
    {
        { nameof(CcmdFamily), "vhsakmt_ccmd", "VHSAKMT_CCMD_" },
        { nameof(QueryType), "vhsakmt_ccmd_query_type", "VHSAKMT_CCMD_QUERY_" },
        { nameof(EventType), "vhsakmt_ccmd_event_type", "VHSAKMT_CCMD_EVENT_" },
        { nameof(MemoryType), "vhsakmt_ccmd_memory_type", "VHSAKMT_CCMD_MEMORY_" },
        { nameof(QueueType), "vhsakmt_ccmd_queue_type", "VHSAKMT_CCMD_QUEUE_" },
        { nameof(GlInterType), "vhsakmt_ccmd_gl_inter_type", "VHSAKMT_CCMD_GL_" },
    };

    [NeedsTheory(Needs.SharedSpec)]
    [MemberData(nameof(Enums))]
    public void Ccmd_enum_matches_gnew_h25_json(string clrEnum, string cEnum, string prefix)
    {
        Prerequisites.Require(Needs.SharedSpec);
        var type = typeof(CcmdFamily).Assembly.GetType(typeof(CcmdFamily).Namespace + "." + clrEnum)!;
        var facts = LayoutFacts.GNew.Enums[cEnum];
        Assert.Equal(facts.Size, ClrLayout.SizeOf(Enum.GetUnderlyingType(type)));

        // VHSAKMT_CCMD_QUERY_GET_NOD_MEM_PROP <-> GetNodMemProp: compare without prefix, underscores and case.
        static string Norm(string s) => s.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
        var clr = Enum.GetNames(type).ToDictionary(Norm, n => Convert.ToInt64(Enum.Parse(type, n), System.Globalization.CultureInfo.InvariantCulture));
        var errors = new List<string>();
        foreach (var (name, value) in facts.Values)
        {
            Assert.StartsWith(prefix, name);
            var key = Norm(name[prefix.Length..]);
            if (!clr.TryGetValue(key, out var v))
                errors.Add($"{name} = {value}: no {clrEnum} member");
            else if (v != value)
                errors.Add($"{name}: C# {v}, C {value}");
        }
        if (clr.Count != facts.Values.Count)
            errors.Add($"{clrEnum} has {clr.Count} members, C enum {cEnum} has {facts.Values.Count}");
        Assert.True(errors.Count == 0, $"{clrEnum} vs {cEnum}:\n  " + string.Join("\n  ", errors));
    }

    [NeedsFact(Needs.SharedSpec)]
    public void Queue_priority_enum_is_8_bytes_in_c_and_on_the_wire()
    {
        Prerequisites.Require(Needs.SharedSpec);
        // HSA_QUEUE_PRIORITY spans -3..0xFFFFFFFF, so gcc makes it 8 bytes (PROTOCOL.md §0.1).
        Assert.Equal(8, LayoutFacts.GNew.Enums["_HSA_QUEUE_PRIORITY"].Size);
        var priority = ClrLayout.Field(typeof(QueueReqCreate), "Priority")!;
        Assert.Equal(8, ClrLayout.SizeOf(priority.FieldType));
    }
}
