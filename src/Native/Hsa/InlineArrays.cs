using System.Runtime.CompilerServices;

namespace VhsaKmt.Native.Hsa;

// Fixed-size C arrays embedded in wire structs.

[InlineArray(3)] public struct Bytesx3 { private byte _e0; }
[InlineArray(6)] public struct Bytesx6 { private byte _e0; }
[InlineArray(7)] public struct Bytesx7 { private byte _e0; }
[InlineArray(16)] public struct Bytesx16 { private byte _e0; }
[InlineArray(20)] public struct Bytesx20 { private byte _e0; }
[InlineArray(64)] public struct Bytesx64 { private byte _e0; }
[InlineArray(2)] public struct U32x2 { private uint _e0; }
[InlineArray(3)] public struct U32x3 { private uint _e0; }
[InlineArray(4)] public struct U32x4 { private uint _e0; }
[InlineArray(7)] public struct U32x7 { private uint _e0; }
[InlineArray(8)] public struct U32x8 { private uint _e0; }
[InlineArray(16)] public struct U32x16 { private uint _e0; }
[InlineArray(32)] public struct U32x32 { private uint _e0; }
[InlineArray(64)] public struct U32x64 { private uint _e0; }
[InlineArray(256)] public struct U32x256 { private uint _e0; }
[InlineArray(9)] public struct U64x9 { private ulong _e0; }
[InlineArray(64)] public struct U16x64 { private ushort _e0; }
