using System.Formats.Tar;
using Provisioning.Sdk.Archives;

namespace Provisioning.Sdk.Tests.Archives;

public sealed class TemplateArchiveWriterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PackAsync_SameContentWithDifferentTimestampsAndCreationOrder_GivesSameSha256()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        string[] files = ["main.tf", "modules/net/main.tf", "modules/net/variables.tf", "scripts/init.sh", "README.md", "Zeta.tf"];
        foreach (var file in files)
        {
            first.WriteFile(file, "content of " + file);
        }

        foreach (var file in files.Reverse())
        {
            var full = second.WriteFile(file, "content of " + file);
            File.SetLastWriteTimeUtc(full, new DateTime(2011, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        }

        Directory.SetLastWriteTimeUtc(second.Combine("modules"), new DateTime(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var writer = new TemplateArchiveWriter();

        var a = await writer.PackToBytesAsync(first.Path, Ct);
        File.SetLastWriteTimeUtc(first.Combine("main.tf"), DateTime.UtcNow.AddDays(-3));
        var again = await writer.PackToBytesAsync(first.Path, Ct);
        var b = await writer.PackToBytesAsync(second.Path, Ct);

        Assert.Equal(a.Archive.Sha256, again.Archive.Sha256);
        Assert.Equal(a.Archive.Sha256, b.Archive.Sha256);
        Assert.Equal(a.Bytes, b.Bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(a.Bytes)), a.Archive.Sha256);
        Assert.Equal(a.Bytes.Length, a.Archive.Size);
        Assert.Equal(files.Length, a.Archive.FileCount);
    }

    [Fact]
    public async Task PackAsync_DifferentContent_GivesDifferentSha256()
    {
        using var first = new TempDirectory();
        using var second = new TempDirectory();
        first.WriteFile("main.tf", "a");
        second.WriteFile("main.tf", "b");
        var writer = new TemplateArchiveWriter();

        var a = await writer.PackToBytesAsync(first.Path, Ct);
        var b = await writer.PackToBytesAsync(second.Path, Ct);

        Assert.NotEqual(a.Archive.Sha256, b.Archive.Sha256);
    }

    [Fact]
    public async Task PackAsync_AnyDirectory_WritesSortedEntriesWithNormalisedMetadata()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("b.tf", "b");
        dir.WriteFile("a-b/x.tf", "x");
        dir.WriteFile("a/y.tf", "y");
        var script = dir.WriteFile("a/run.sh", "#!/bin/sh\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(dir.Combine("b.tf"), UnixFileMode.UserRead);
        dir.WriteFile(".hidden", "dot files are template files too");

        var (bytes, _) = await new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct);
        var entries = TarInspection.Read(bytes);

        Assert.Equal([".hidden", "a-b/", "a-b/x.tf", "a/", "a/run.sh", "a/y.tf", "b.tf"], entries.Select(e => e.Name));
        Assert.All(entries, e =>
        {
            Assert.Equal(TemplateArchiveWriter.EntryTimestamp, e.ModificationTime);
            Assert.Equal(0, e.Uid);
            Assert.Equal(0, e.Gid);
            Assert.Equal(string.Empty, e.UserName);
            Assert.Equal(string.Empty, e.GroupName);
        });
        Assert.Equal(TarEntryType.Directory, entries.Single(e => e.Name == "a/").Type);
        Assert.Equal((UnixFileMode)0b111_101_101, entries.Single(e => e.Name == "a/").Mode);
        Assert.Equal((UnixFileMode)0b111_101_101, entries.Single(e => e.Name == "a/run.sh").Mode);
        Assert.Equal((UnixFileMode)0b110_100_100, entries.Single(e => e.Name == "b.tf").Mode);
    }

    [Fact]
    public async Task PackAsync_PathLongerThanUstarAllows_UsesPaxWithoutVolatileTimestamps()
    {
        using var dir = new TempDirectory();
        var longName = string.Join('/', Enumerable.Range(0, 6).Select(i => new string((char)('a' + i), 30))) + "/main.tf";
        dir.WriteFile(longName, "deep");
        dir.WriteFile("ünïcode.tf", "u");
        var writer = new TemplateArchiveWriter();

        var first = await writer.PackToBytesAsync(dir.Path, Ct);
        await Task.Delay(1100, Ct); // a clock-derived atime/ctime would now differ
        var second = await writer.PackToBytesAsync(dir.Path, Ct);
        var entries = TarInspection.Read(first.Bytes);

        Assert.Equal(first.Archive.Sha256, second.Archive.Sha256);
        var deep = entries.Single(e => e.Name == longName);
        Assert.Equal(TarEntryFormat.Pax, deep.Format);
        Assert.DoesNotContain("atime", deep.ExtendedAttributes.Keys);
        Assert.DoesNotContain("ctime", deep.ExtendedAttributes.Keys);
        Assert.Contains(entries, e => e.Name == "ünïcode.tf");
    }

    [Fact]
    public async Task PackAsync_TerraformGitAndStateFiles_AreSkipped()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("main.tf", "m");
        dir.WriteFile(".terraform.lock.hcl", "lock");
        dir.WriteFile(".terraform/providers/p", "binary");
        dir.WriteFile("modules/x/.terraform/modules.json", "{}");
        dir.WriteFile(".git/config", "[core]");
        dir.WriteFile("modules/x/.git", "gitdir: elsewhere");
        dir.WriteFile("terraform.tfstate", "{}");
        dir.WriteFile("terraform.tfstate.backup", "{}");
        dir.WriteFile("modules/x/old.tfstate.1", "{}");
        dir.WriteFile("modules/x/main.tf", "x");

        var (bytes, archive) = await new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct);

        Assert.Equal([".terraform.lock.hcl", "main.tf", "modules/", "modules/x/", "modules/x/main.tf"], TarInspection.Names(bytes));
        Assert.Equal(3, archive.FileCount);
    }

    [Fact]
    public async Task PackAsync_IgnoreFile_SkipsPatternsHonouringNegationsAndDirectoryPatterns()
    {
        using var dir = new TempDirectory();
        dir.WriteFile(TemplateArchiveWriter.IgnoreFileName, "# comment\n*.log\n!keep.log\nbuild/\n/secret.txt\ndocs/**/*.png\n");
        dir.WriteFile("main.tf", "m");
        dir.WriteFile("debug.log", "d");
        dir.WriteFile("keep.log", "k");
        dir.WriteFile("sub/trace.log", "t");
        dir.WriteFile("build/out.bin", "o");
        dir.WriteFile("sub/build/out.bin", "o");
        dir.WriteFile("build.tf", "a file named like the directory pattern stays");
        dir.WriteFile("secret.txt", "s");
        dir.WriteFile("sub/secret.txt", "anchored pattern only matches at the root");
        dir.WriteFile("docs/a/b/pic.png", "p");
        dir.WriteFile("docs/a/readme.md", "r");

        var (bytes, _) = await new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct);

        Assert.Equal(
            [TemplateArchiveWriter.IgnoreFileName, "build.tf", "docs/", "docs/a/", "docs/a/b/", "docs/a/readme.md", "keep.log", "main.tf", "sub/", "sub/secret.txt"],
            TarInspection.Names(bytes));
    }

    [Fact]
    public async Task PackAsync_SymlinksInsideTheDirectory_AreStoredAsLinks()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("modules/common.tf", "c");
        dir.WriteFile("env/main.tf", "m");
        File.CreateSymbolicLink(dir.Combine("env", "common.tf"), "../modules/common.tf");
        File.CreateSymbolicLink(dir.Combine("absolute.tf"), dir.Combine("modules", "common.tf"));
        Directory.CreateSymbolicLink(dir.Combine("mods"), "modules");

        var (bytes, _) = await new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct);
        var entries = TarInspection.Read(bytes);

        var relative = entries.Single(e => e.Name == "env/common.tf");
        Assert.Equal(TarEntryType.SymbolicLink, relative.Type);
        Assert.Equal("../modules/common.tf", relative.LinkName);
        Assert.Equal("modules/common.tf", entries.Single(e => e.Name == "absolute.tf").LinkName);
        var directoryLink = entries.Single(e => e.Name == "mods");
        Assert.Equal(TarEntryType.SymbolicLink, directoryLink.Type);
        Assert.DoesNotContain(entries, e => e.Name.StartsWith("mods/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../outside")]
    [InlineData("sub/../../outside")]
    public async Task PackAsync_SymlinkLeavingTheDirectory_FailsNamingTheLink(string target)
    {
        using var dir = new TempDirectory();
        dir.WriteFile("main.tf", "m");
        Directory.CreateDirectory(dir.Combine("sub"));
        File.CreateSymbolicLink(dir.Combine("escape"), target);

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct));

        Assert.Equal("escape", ex.EntryName);
        Assert.Contains("'escape'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("outside the template directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PackAsync_SymlinkEscapingThroughAnotherLink_Fails()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("main.tf", "m");
        Directory.CreateSymbolicLink(dir.Combine("here"), ".");
        File.CreateSymbolicLink(dir.Combine("up"), "here/..");

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct));

        Assert.Equal("up", ex.EntryName);
    }

    [Fact]
    public async Task PackAsync_FifoInTheDirectory_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("main.tf", "m");
        dir.WriteFile("empty.tf", string.Empty);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", dir.Combine("pipe")))
        {
            await mkfifo.WaitForExitAsync(Ct);
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct));

        Assert.Equal("pipe", ex.EntryName);
        Assert.Contains("special file (Fifo)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PackAsync_UnixSocketInTheDirectory_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("main.tf", "m");
        // Kept open while packing: .NET removes the socket file when a bound socket is disposed.
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(dir.Combine("p.sock")));
        Assert.True(File.Exists(dir.Combine("p.sock")));

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => new TemplateArchiveWriter().PackToBytesAsync(dir.Path, Ct));

        Assert.Equal("p.sock", ex.EntryName);
    }

    [Fact]
    public async Task PackAsync_WithProgress_ReportsEveryEntry()
    {
        using var dir = new TempDirectory();
        dir.WriteFile("a.tf", "a");
        dir.WriteFile("m/b.tf", "b");
        var reports = new List<TemplateArchiveProgress>();
        var writer = new TemplateArchiveWriter(new SynchronousProgress(reports.Add));

        await writer.PackToBytesAsync(dir.Path, Ct);

        Assert.Equal(["a.tf", "m/", "m/b.tf"], reports.Select(r => r.CurrentPath));
        Assert.All(reports, r => Assert.Equal(3, r.TotalEntries));
        Assert.Equal([1, 2, 3], reports.Select(r => r.EntriesWritten));
    }

    [Fact]
    public async Task PackAsync_MissingDirectory_ThrowsDirectoryNotFound()
    {
        using var dir = new TempDirectory();

        await Assert.ThrowsAsync<DirectoryNotFoundException>(() => new TemplateArchiveWriter().PackToBytesAsync(dir.Combine("nope"), Ct));
    }

    private sealed class SynchronousProgress(Action<TemplateArchiveProgress> report) : IProgress<TemplateArchiveProgress>
    {
        public void Report(TemplateArchiveProgress value) => report(value);
    }
}
