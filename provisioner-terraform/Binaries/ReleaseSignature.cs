using Org.BouncyCastle.Bcpg.OpenPgp;

namespace Provisioning.Terraform.Binaries;

/// <summary>
/// Checks the detached OpenPGP signature of a release's SHA256SUMS against the keys trusted for releases: HashiCorp's release
/// key (fingerprint C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F, embedded) unless the operator names another key file
/// (a mirror that re-signs, or a test). Only a signature that verifies with a key of that ring, made while that key was valid,
/// is accepted; so a mirror, a proxy or a compromised download site cannot swap both a zip and its checksum.
/// </summary>
internal static class ReleaseSignature
{
    /// <summary>The fingerprint of the embedded HashiCorp release key, for messages and the decision record.</summary>
    public const string HashiCorpFingerprint = "C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F";

    /// <summary>Throws <see cref="TerraformInstallException"/> unless <paramref name="signature"/> signs <paramref name="signed"/> with a trusted key.</summary>
    public static void Verify(byte[] signed, byte[] signature, string? keyFile, string what)
    {
        var keys = LoadKeys(keyFile);
        PgpSignatureList signatures;
        try
        {
            using var input = PgpUtilities.GetDecoderStream(new MemoryStream(signature));
            signatures = new PgpObjectFactory(input).NextPgpObject() switch
            {
                PgpSignatureList list => list,
                PgpCompressedData compressed => (PgpSignatureList)new PgpObjectFactory(compressed.GetDataStream()).NextPgpObject(),
                _ => throw new TerraformInstallException($"The signature of {what} is not an OpenPGP signature; refusing to install."),
            };
        }
        catch (Exception exception) when (exception is IOException or PgpException or InvalidCastException)
        {
            throw new TerraformInstallException($"The signature of {what} cannot be read ({exception.Message}); refusing to install.", exception);
        }

        var unknown = new List<string>();
        for (var index = 0; index < signatures.Count; index++)
        {
            var candidate = signatures[index];
            var key = keys.GetPublicKey(candidate.KeyId);
            if (key is null)
            {
                unknown.Add(candidate.KeyId.ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
                continue;
            }

            candidate.InitVerify(key);
            candidate.Update(signed);
            if (!candidate.Verify())
            {
                throw new TerraformInstallException($"The signature of {what} does not match its content: it was altered after signing; refusing to install.");
            }

            var expires = key.GetValidSeconds() is var seconds and > 0 ? key.CreationTime.AddSeconds(seconds) : DateTime.MaxValue;
            if (candidate.CreationTime < key.CreationTime || candidate.CreationTime > expires)
            {
                throw new TerraformInstallException($"{what} was signed on {candidate.CreationTime:u}, outside the validity of key {candidate.KeyId:X16}; refusing to install.");
            }

            return;
        }

        throw new TerraformInstallException(
            $"{what} is signed by key {string.Join(", ", unknown)}, which is not trusted ({(keyFile is null ? "HashiCorp's release key " + HashiCorpFingerprint : "the keys in " + keyFile)}); refusing to install. "
            + "If your mirror re-signs releases, pass its public key with --terraform-signing-key-file.");
    }

    private static PgpPublicKeyRingBundle LoadKeys(string? keyFile)
    {
        try
        {
            using var armored = keyFile is null
                ? typeof(ReleaseSignature).Assembly.GetManifestResourceStream("hashicorp-release-key.asc")
                    ?? throw new InvalidOperationException("The embedded HashiCorp release key is missing from this build.")
                : File.OpenRead(keyFile);
            using var decoded = PgpUtilities.GetDecoderStream(armored);
            return new PgpPublicKeyRingBundle(decoded);
        }
        catch (Exception exception) when (exception is IOException or PgpException or UnauthorizedAccessException)
        {
            throw new TerraformInstallException($"The release signing key file {keyFile} cannot be read as OpenPGP public keys: {exception.Message}", exception);
        }
    }
}
