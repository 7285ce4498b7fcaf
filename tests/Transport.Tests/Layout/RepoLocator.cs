namespace VhsaKmt.Transport.Tests.Layout;

/// <summary>Finds the repository (the directory holding VhsaKmt.sln) and the shared spec next to it.</summary>
internal static class RepoLocator
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RepoRoot => Root.Value;

    /// <summary><c>../shared</c> relative to the repository root.</summary>
    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string GNewLayoutJson => Path.Combine(SharedDir, "spec", "layouts", "gnew-h25.json");

    public static string GInitLayoutJson => Path.Combine(SharedDir, "spec", "layouts", "ginit-h25.json");

    public static string ProtocolMd => Path.Combine(SharedDir, "spec", "PROTOCOL.md");

    public static string SourceDir => Path.Combine(RepoRoot, "src");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VhsaKmt.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException(
            $"VhsaKmt.sln not found in any parent of the test assembly directory {AppContext.BaseDirectory}");
    }
}
