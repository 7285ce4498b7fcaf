using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;

namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>
/// The layout the runtime really uses for a struct: offsets come from the address of the field in a live
/// instance (IL <c>ldflda</c> minus the instance address), sizes from IL <c>sizeof</c>, so neither trusts
/// <c>[FieldOffset]</c>/<c>[StructLayout]</c> attributes or the marshaller.
/// </summary>
internal static class ClrLayout
{
    private static readonly Dictionary<FieldInfo, int> Offsets = new();
    private static readonly Dictionary<Type, int> Sizes = new();
    private static readonly object Gate = new();

    public static int SizeOf(Type t)
    {
        lock (Gate)
        {
            if (Sizes.TryGetValue(t, out var s))
                return s;
            var dm = new DynamicMethod("SizeOf_" + t.Name, typeof(int), Type.EmptyTypes, typeof(ClrLayout).Module, true);
            var il = dm.GetILGenerator();
            il.Emit(OpCodes.Sizeof, t);
            il.Emit(OpCodes.Ret);
            s = dm.CreateDelegate<Func<int>>()();
            Sizes[t] = s;
            return s;
        }
    }

    public static int OffsetOf(FieldInfo f)
    {
        if (f.IsStatic)
            throw new ArgumentException($"{f.Name} is static", nameof(f));
        lock (Gate)
        {
            if (Offsets.TryGetValue(f, out var o))
                return o;
            var owner = f.DeclaringType!;
            var dm = new DynamicMethod("OffsetOf_" + f.Name, typeof(int), Type.EmptyTypes, typeof(ClrLayout).Module, true);
            var il = dm.GetILGenerator();
            var local = il.DeclareLocal(owner);
            il.Emit(OpCodes.Ldloca, local);
            il.Emit(OpCodes.Ldflda, f);
            il.Emit(OpCodes.Ldloca, local);
            il.Emit(OpCodes.Sub);
            il.Emit(OpCodes.Conv_I4);
            il.Emit(OpCodes.Ret);
            o = dm.CreateDelegate<Func<int>>()();
            Offsets[f] = o;
            return o;
        }
    }

    /// <summary>Public instance fields: the C members the struct models.</summary>
    public static IReadOnlyList<FieldInfo> Fields(Type t) =>
        t.GetFields(BindingFlags.Public | BindingFlags.Instance);

    public static FieldInfo? Field(Type t, string name) =>
        t.GetField(name, BindingFlags.Public | BindingFlags.Instance);

    /// <summary>A public constant of the type (e.g. <c>Size</c> or a bit mask), or null.</summary>
    public static object? Const(Type t, string name)
    {
        var f = t.GetField(name, BindingFlags.Public | BindingFlags.Static);
        return f is { IsLiteral: true } ? f.GetRawConstantValue() : null;
    }

    public static bool IsInlineArray(Type t) => t.GetCustomAttribute<InlineArrayAttribute>() is not null;
}
