using Provisioning.Terraform.Execution;

namespace Provisioning.Terraform.Tests.Execution;

public sealed class SecretRedactorTests
{
    [Fact]
    public void Redact_LineWithSecret_MasksEveryOccurrence()
    {
        var redactor = new SecretRedactor(["hunter2-token"]);

        var line = redactor.Redact("token=hunter2-token and again hunter2-token");

        Assert.Equal($"token={SecretRedactor.Mask} and again {SecretRedactor.Mask}", line);
    }

    [Fact]
    public void Redact_MultiLineSecret_MasksEachLine()
    {
        var redactor = new SecretRedactor(["-----BEGIN KEY-----\nAAAAB3NzaC1yc2E\n-----END KEY-----"]);

        Assert.Equal(SecretRedactor.Mask, redactor.Redact("AAAAB3NzaC1yc2E"));
    }

    [Fact]
    public void Redact_ShortOrEmptySecrets_AreIgnored()
    {
        var redactor = new SecretRedactor(["", null, "ab"]);

        Assert.Equal("ab cd", redactor.Redact("ab cd"));
    }
}
