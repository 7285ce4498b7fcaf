using System.Text.Json;

namespace VhsaKmt.Daemon;

/// <summary>
/// The <c>--print-capabilities</c> answer (QEMU docs/interop/vhost-user.json). For type "gpu" the
/// schema knows two features: "virgl" (a virglrenderer 3D backend) and "render-node" (accepts
/// <c>--render-node</c>). vhsakmtd offers neither: it serves native-context capset 8 and picks its
/// GPU through the KFD, so the honest list is empty.
/// </summary>
public static class Capabilities
{
    public static string Json()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "gpu");
            writer.WriteStartArray("features");
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
