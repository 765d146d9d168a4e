using System.Runtime.InteropServices;

using Provisioning.Terraform.Execution;

namespace Provisioning.Terraform.Tests.Execution;

/// <summary>The init-skip decision on real directories: what it links, and every reason it refuses.</summary>
public sealed class TerraformInitSkipTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("provisioning-initskip-").FullName;

    private string Work => Path.Combine(_root, "work");

    private string Cache => Path.Combine(_root, "cache");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TryPrepare_BuiltInProviderOnly_SkipsWithoutTouchingTheDirectory()
    {
        Write("main.tf", "resource \"terraform_data\" \"one\" {}\ndata \"terraform_remote_state\" \"other\" {\n  backend = \"local\"\n}\n");

        Assert.Null(TerraformInitSkip.TryPrepare(Work, Cache));
        Assert.False(Directory.Exists(Path.Combine(Work, ".terraform")));
    }

    [Theory]
    [InlineData("module \"m\" {\n  source = \"./m\"\n}\n", "modules")]
    [InlineData("terraform {\n  backend \"s3\" {}\n}\n", "backend")]
    [InlineData("resource \"null_resource\" \"one\" {}\n", "no dependency lock file")]
    [InlineData("provider \"aws\" {}\n", "no dependency lock file")]
    [InlineData("terraform {\n  required_providers {\n    coder = { source = \"coder/coder\" }\n  }\n}\n", "no dependency lock file")]
    [InlineData("resource \"terraform_data\" \"one\" {\n  provider = terraform.other\n}\n", "names its provider")]
    [InlineData("resource \"terraform_data\" {", "does not parse")]
    public void TryPrepare_TemplateNeedingInit_RunsInitAndSaysWhy(string configuration, string reason)
    {
        Write("main.tf", configuration);

        Assert.Contains(reason, TerraformInitSkip.TryPrepare(Work, Cache), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Work, ".terraform")));
    }

    [Fact]
    public void TryPrepare_JsonConfiguration_RunsInit()
    {
        Write("main.tf.json", "{}");

        Assert.Contains("JSON", TerraformInitSkip.TryPrepare(Work, Cache), StringComparison.Ordinal);
    }

    [Fact]
    public void TryPrepare_LockedProviderInTheCache_LinksItAsInitWould()
    {
        Write("main.tf", "resource \"null_resource\" \"one\" {}\n");
        Write(TerraformInitSkip.LockFileName, Lock("registry.terraform.io/hashicorp/null", "3.2.4"));
        var cached = CacheProvider("registry.terraform.io/hashicorp/null", "3.2.4");

        Assert.Null(TerraformInitSkip.TryPrepare(Work, Cache));

        var link = new DirectoryInfo(Path.Combine(Work, ".terraform", "providers", "registry.terraform.io", "hashicorp", "null", "3.2.4", Platform));
        Assert.Equal(cached, link.LinkTarget);
        Assert.True(File.Exists(Path.Combine(link.FullName, "terraform-provider-null_v3.2.4")));
    }

    [Fact]
    public void TryPrepare_LockedProviderNotCachedYet_RunsInit()
    {
        Write("main.tf", "resource \"null_resource\" \"one\" {}\n");
        Write(TerraformInitSkip.LockFileName, Lock("registry.terraform.io/hashicorp/null", "3.2.4"));
        CacheProvider("registry.terraform.io/hashicorp/null", "3.2.3");

        Assert.Contains("not in the plugin cache", TerraformInitSkip.TryPrepare(Work, Cache), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Work, ".terraform")));
    }

    [Fact]
    public void TryPrepare_ProviderTheLockDoesNotPin_RunsInit()
    {
        Write("main.tf", "resource \"null_resource\" \"one\" {}\nresource \"random_id\" \"two\" {}\n");
        Write(TerraformInitSkip.LockFileName, Lock("registry.terraform.io/hashicorp/null", "3.2.4"));
        CacheProvider("registry.terraform.io/hashicorp/null", "3.2.4");

        Assert.Contains("does not pin", TerraformInitSkip.TryPrepare(Work, Cache), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry.terraform.io/../../etc", "1.0.0")]
    [InlineData("registry.terraform.io/hashicorp/null", "../../1.0.0")]
    [InlineData("hashicorp/null", "1.0.0")]
    public void TryPrepare_LockFileWithUnexpectedEntry_RunsInit(string source, string version)
    {
        Write("main.tf", "resource \"null_resource\" \"one\" {}\n");
        Write(TerraformInitSkip.LockFileName, Lock(source, version));

        Assert.Contains("not one this check understands", TerraformInitSkip.TryPrepare(Work, Cache), StringComparison.Ordinal);
    }

    [Fact]
    public void NeedsInit_TerraformAskingForInit_IsRecognised()
    {
        var missing = new TerraformCommandException("plan", 1, [new TerraformDiagnostic(true, "Inconsistent dependency lock file", "run \"terraform init\"", null, null)]);
        var other = new TerraformCommandException("plan", 1, [new TerraformDiagnostic(true, "Unsupported argument", "An argument named \"x\" is not expected here.", "main.tf", 3)]);

        Assert.True(TerraformInitSkip.NeedsInit(missing));
        Assert.False(TerraformInitSkip.NeedsInit(other));
    }

    private static string Platform => $"linux_{(RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64")}";

    private static string Lock(string source, string version) =>
        $"provider \"{source}\" {{\n  version     = \"{version}\"\n  constraints = \">= 3.0.0\"\n  hashes = [\n    \"h1:abc=\",\n  ]\n}}\n";

    private void Write(string name, string content)
    {
        Directory.CreateDirectory(Work);
        File.WriteAllText(Path.Combine(Work, name), content);
    }

    private string CacheProvider(string source, string version)
    {
        var directory = Path.Combine(Cache, source, version, Platform);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, $"terraform-provider-{source.Split('/')[^1]}_v{version}"), "binary");
        return directory;
    }
}
