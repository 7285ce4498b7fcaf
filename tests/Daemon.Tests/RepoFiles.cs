namespace VhsaKmt.Daemon.Tests;

/// <summary>Files of this repository, found from the test binaries upward (the directory holding VhsaKmt.sln).</summary>
public static class RepoFiles
{
    public static string Path(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "VhsaKmt.sln")))
                return System.IO.Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException("repository root (VhsaKmt.sln) not found above " + AppContext.BaseDirectory);
    }
}
