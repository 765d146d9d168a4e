using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;

namespace Provisioning.Terraform.Tests.Binaries;

/// <summary>
/// An OpenPGP release signing key made in the test, as a mirror that re-signs releases would have: its public key as an armored
/// file, and detached signatures (as HashiCorp publishes <c>…SHA256SUMS.sig</c>).
/// </summary>
internal sealed class TestReleaseKey
{
    private readonly PgpKeyPair _pair;

    public TestReleaseKey(string directory, string name = "Test Releases <releases@example.com>")
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(0x10001), new SecureRandom(), 2048, 12));
        _pair = new PgpKeyPair(PublicKeyAlgorithmTag.RsaGeneral, generator.GenerateKeyPair(), DateTime.UtcNow.AddMinutes(-10));
        var rings = new PgpKeyRingGenerator(PgpSignature.PositiveCertification, _pair, name, SymmetricKeyAlgorithmTag.Aes256, "unused".ToCharArray(), true, null, null, new SecureRandom());
        PublicKeyFile = Path.Combine(directory, $"release-key-{Guid.NewGuid():N}.asc");
        using var file = File.Create(PublicKeyFile);
        using var armored = new ArmoredOutputStream(file);
        rings.GeneratePublicKeyRing().Encode(armored);
    }

    public string PublicKeyFile { get; }

    /// <summary>A detached binary signature of <paramref name="data"/>.</summary>
    public byte[] Sign(byte[] data)
    {
        var generator = new PgpSignatureGenerator(PublicKeyAlgorithmTag.RsaGeneral, HashAlgorithmTag.Sha256);
        generator.InitSign(PgpSignature.BinaryDocument, _pair.PrivateKey);
        generator.Update(data);
        using var output = new MemoryStream();
        generator.Generate().Encode(output);
        return output.ToArray();
    }
}
