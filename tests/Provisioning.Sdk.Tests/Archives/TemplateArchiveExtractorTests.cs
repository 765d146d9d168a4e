using System.Formats.Tar;
using System.Text;
using Provisioning.Sdk.Archives;

namespace Provisioning.Sdk.Tests.Archives;

public sealed class TemplateArchiveExtractorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> UnsafeArchives => new(UnsafeCases.Keys);

    // Each case builds a tar whose extraction must be refused; the argument is an absolute path beside the target.
    private static readonly Dictionary<string, (Func<string, byte[]> Build, string Entry, string Rule, TemplateArchiveLimits? Limits)> UnsafeCases = new()
    {
        ["absolute path"] = (sentinel => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddFile(w, Path.Combine(sentinel, "x"), "pwned"); }), "{sentinel}/x", "absolute path", null),
        ["dot-dot first"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddFile(w, "../sentinel/x", "pwned"); }), "../sentinel/x", "'..'", null),
        ["dot-dot inside"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddFile(w, "a/../../sentinel/x", "pwned"); }), "a/../../sentinel/x", "'..'", null),
        ["symlink to /etc/passwd"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddLink(w, TarEntryType.SymbolicLink, "passwd", "/etc/passwd"); }), "passwd", "absolute path", null),
        ["symlink to ../outside"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddLink(w, TarEntryType.SymbolicLink, "out", "../sentinel"); }), "out", "outside the archive root", null),
        ["symlink escaping through another link"] = (_ => BuildTar(w => { AddLink(w, TarEntryType.SymbolicLink, "here", "."); AddLink(w, TarEntryType.SymbolicLink, "up", "here/.."); }), "up", "outside the archive root", null),
        ["symlink loop"] = (_ => BuildTar(w => { AddLink(w, TarEntryType.SymbolicLink, "a", "b"); AddLink(w, TarEntryType.SymbolicLink, "b", "a"); }), "a", "loop", null),
        ["write through a symlink"] = (_ => BuildTar(w => { AddLink(w, TarEntryType.SymbolicLink, "dir", "sub"); AddFile(w, "dir/x", "x"); }), "dir/x", "symbolic link", null),
        ["hard link outside"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddLink(w, TarEntryType.HardLink, "h", "../sentinel/x"); }), "h", "outside the archive root", null),
        ["hard link absolute"] = (_ => BuildTar(w => AddLink(w, TarEntryType.HardLink, "h", "/etc/passwd")), "h", "outside the archive root", null),
        ["character device"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); w.WriteEntry(new UstarTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 }); }), "null", "character device", null),
        ["block device"] = (_ => BuildTar(w => w.WriteEntry(new UstarTarEntry(TarEntryType.BlockDevice, "sda") { DeviceMajor = 8, DeviceMinor = 0 })), "sda", "block device", null),
        ["fifo"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); w.WriteEntry(new UstarTarEntry(TarEntryType.Fifo, "pipe")); }), "pipe", "FIFO", null),
        ["unknown type"] = (_ => WithTypeFlag(BuildUstar(w => w.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "weird"))), (byte)'Z'), "weird", "not supported", null),
        ["oversize file"] = (_ => BuildTar(w => { AddFile(w, "ok.tf", "ok"); AddFile(w, "big.bin", new string('x', 11)); }), "big.bin", "MaxFileBytes", new TemplateArchiveLimits { MaxFileBytes = 10 }),
        ["too many files"] = (_ => BuildTar(w => { for (var i = 0; i < 4; i++) { AddFile(w, $"f{i}.tf", "x"); } }), "f3.tf", "MaxFileCount", new TemplateArchiveLimits { MaxFileCount = 3 }),
        ["too many total bytes"] = (_ => BuildTar(w => { AddFile(w, "a.bin", "123456"); AddFile(w, "b.bin", "123456"); }), "b.bin", "MaxTotalBytes", new TemplateArchiveLimits { MaxTotalBytes = 10 }),
        ["duplicate path"] = (_ => BuildTar(w => { AddFile(w, "main.tf", "a"); AddFile(w, "main.tf", "b"); }), "main.tf", "already holds", null),
    };

    [Theory]
    [MemberData(nameof(UnsafeArchives))]
    public async Task ExtractAsync_UnsafeArchive_IsRefusedAndWritesNothing(string caseName)
    {
        using var scratch = new TempDirectory();
        var sentinel = scratch.Combine("sentinel");
        Directory.CreateDirectory(sentinel);
        var target = scratch.Combine("target");
        var (build, entry, rule, limits) = UnsafeCases[caseName];
        var tar = build(sentinel);

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => TemplateArchiveExtractor.ExtractAsync(new MemoryStream(tar), target, limits, Ct));

        var expectedEntry = entry.Replace("{sentinel}", sentinel, StringComparison.Ordinal);
        Assert.Equal(expectedEntry, ex.EntryName);
        Assert.Contains($"'{expectedEntry}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(sentinel));
        Assert.Equal(["sentinel"], Directory.EnumerateFileSystemEntries(scratch.Path).Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(UnsafeArchives))]
    public async Task ValidateAsync_UnsafeArchive_IsRefused(string caseName)
    {
        var (build, entry, _, limits) = UnsafeCases[caseName];
        var tar = build("/tmp/sentinel");

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => TemplateArchiveValidator.ValidateAsync(new MemoryStream(tar), limits, Ct));

        Assert.Equal(entry.Replace("{sentinel}", "/tmp/sentinel", StringComparison.Ordinal), ex.EntryName);
    }

    [Fact]
    public async Task ExtractAsync_PackedDirectory_RoundTripsContentModesAndLinks()
    {
        using var source = new TempDirectory();
        using var scratch = new TempDirectory();
        source.WriteFile("main.tf", "resource \"terraform_data\" \"x\" {}\n");
        source.WriteFile("modules/net/main.tf", "# net\n");
        var script = source.WriteFile("scripts/run.sh", "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(source.Combine("empty"));
        File.CreateSymbolicLink(source.Combine("net.tf"), "modules/net/main.tf");
        var (bytes, archive) = await new TemplateArchiveWriter().PackToBytesAsync(source.Path, Ct);
        var target = scratch.Combine("out");

        var summary = await TemplateArchiveExtractor.ExtractAsync(new MemoryStream(bytes), target, cancellationToken: Ct);

        Assert.Equal(archive.FileCount, summary.FileCount);
        Assert.Equal(File.ReadAllText(source.Combine("main.tf")), File.ReadAllText(Path.Combine(target, "main.tf")));
        Assert.Equal("# net\n", File.ReadAllText(Path.Combine(target, "modules", "net", "main.tf")));
        Assert.True(Directory.Exists(Path.Combine(target, "empty")));
        Assert.Equal("modules/net/main.tf", new FileInfo(Path.Combine(target, "net.tf")).LinkTarget);
        Assert.Equal("# net\n", File.ReadAllText(Path.Combine(target, "net.tf")));
        Assert.NotEqual(UnixFileMode.None, File.GetUnixFileMode(Path.Combine(target, "scripts", "run.sh")) & UnixFileMode.UserExecute);
        Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(Path.Combine(target, "main.tf")) & UnixFileMode.UserExecute);
        var repacked = await new TemplateArchiveWriter().PackToBytesAsync(target, Ct);
        Assert.Equal(archive.Sha256, repacked.Archive.Sha256);
    }

    [Fact]
    public async Task ExtractAsync_NonSeekableStreamWithHardLink_ExtractsLinkAsCopy()
    {
        using var scratch = new TempDirectory();
        var tar = BuildTar(w =>
        {
            AddFile(w, "./a/original.tf", "same");
            AddLink(w, TarEntryType.HardLink, "copy.tf", "a/original.tf");
        });

        var summary = await TemplateArchiveExtractor.ExtractAsync(new NonSeekableStream(tar), scratch.Combine("out"), cancellationToken: Ct);

        Assert.Equal("same", File.ReadAllText(scratch.Combine("out", "copy.tf")));
        Assert.Equal("same", File.ReadAllText(scratch.Combine("out", "a", "original.tf")));
        Assert.Equal(new TemplateArchiveSummary(EntryCount: 2, FileCount: 2, TotalBytes: 8), summary);
    }

    [Fact]
    public async Task ExtractAsync_NonEmptyTarget_IsRefused()
    {
        using var scratch = new TempDirectory();
        scratch.WriteFile("out/existing", "x");
        var tar = BuildTar(w => AddFile(w, "main.tf", "m"));

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => TemplateArchiveExtractor.ExtractAsync(new MemoryStream(tar), scratch.Combine("out"), cancellationToken: Ct));

        Assert.Contains("not empty", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(scratch.Combine("out", "main.tf")));
    }

    [Fact]
    public async Task ExtractAsync_GarbageInsteadOfTar_IsRefusedWithAClearMessage()
    {
        using var scratch = new TempDirectory();
        var garbage = Encoding.UTF8.GetBytes(new string('z', 2000));

        var ex = await Assert.ThrowsAsync<TemplateArchiveException>(() => TemplateArchiveExtractor.ExtractAsync(new MemoryStream(garbage), scratch.Combine("out"), cancellationToken: Ct));

        Assert.Contains("not a readable tar", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_SafeArchive_ReturnsCountsAndSize()
    {
        var tar = BuildTar(w =>
        {
            w.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "m/"));
            AddFile(w, "m/a.tf", "abc");
            AddFile(w, "b.tf", "de");
            AddLink(w, TarEntryType.SymbolicLink, "m/link.tf", "../b.tf");
        });

        var summary = await TemplateArchiveValidator.ValidateAsync(new NonSeekableStream(tar), cancellationToken: Ct);

        Assert.Equal(new TemplateArchiveSummary(EntryCount: 4, FileCount: 3, TotalBytes: 5), summary);
    }

    private static byte[] BuildTar(Action<TarWriter> build)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            build(writer);
        }

        return buffer.ToArray();
    }

    private static byte[] BuildUstar(Action<TarWriter> build)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            build(writer);
        }

        return buffer.ToArray();
    }

    /// <summary>Rewrites the first header's type flag (and checksum): TarWriter refuses to create unknown types.</summary>
    private static byte[] WithTypeFlag(byte[] tar, byte typeFlag)
    {
        tar[156] = typeFlag;
        tar.AsSpan(148, 8).Fill((byte)' ');
        var checksum = tar.AsSpan(0, 512).ToArray().Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(checksum, 8).PadLeft(6, '0') + "\0 ").CopyTo(tar, 148);
        return tar;
    }

    private static void AddFile(TarWriter writer, string name, string content) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });

    private static void AddLink(TarWriter writer, TarEntryType type, string name, string target) =>
        writer.WriteEntry(new PaxTarEntry(type, name) { LinkName = target });

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override long Position
        {
            get => base.Position;
            set => throw new NotSupportedException();
        }
    }
}
