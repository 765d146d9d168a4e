using System.CommandLine;

using Provisioning.Cli.Config;

namespace Provisioning.Cli.Commands;

/// <summary>
/// A flag that carries a secret, e.g. <c>--psk</c>, in the three forms an operator may use: on the command line (which
/// every user of the machine can read with <c>ps</c>, so it prints a warning), from a file (<c>--psk-file PATH</c>, or
/// <c>VARIABLE_FILE</c>: a mounted secret, a systemd credential), or from the environment (<c>VARIABLE</c>).
/// </summary>
internal sealed class SecretOption
{
    private readonly Func<string, bool> _isSecret;

    /// <param name="name">The flag, e.g. <c>--psk</c>; the file flag is this plus <c>-file</c>.</param>
    /// <param name="environmentVariable">The variable holding the value; the one holding a file path is this plus <c>_FILE</c>.</param>
    /// <param name="description">What the value is.</param>
    /// <param name="isSecret">Whether a given value holds a secret at all (a database URL without a password does not); default: always.</param>
    public SecretOption(string name, string environmentVariable, string description, Func<string, bool>? isSecret = null)
    {
        Name = name;
        EnvironmentVariable = environmentVariable;
        _isSecret = isSecret ?? (_ => true);
        Value = new Option<string?>(name) { Description = $"{description} Visible to other users in `ps`: prefer {name}-file or the environment. [env: {environmentVariable}]" };
        File = new Option<string?>(name + "-file") { Description = $"Read {name} from this file (surrounding whitespace ignored). [env: {environmentVariable}_FILE]" };
    }

    public string Name { get; }

    public string EnvironmentVariable { get; }

    public Option<string?> Value { get; }

    public Option<string?> File { get; }

    /// <summary>
    /// The value from the command line, its file, the environment or the environment's file, in that order; null when none
    /// is given. Two forms at the same level (the flag and its file flag, or both variables) are refused rather than one
    /// silently winning. Writes a warning to <paramref name="warnings"/> when the secret came on the command line.
    /// </summary>
    public string? Resolve(ParseResult parse, TextWriter warnings)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(warnings);
        var given = parse.GetValue(Value);
        var file = parse.GetValue(File);
        if (!string.IsNullOrEmpty(given) && !string.IsNullOrEmpty(file))
        {
            throw new CliException($"{Name} and {Name}-file are both given: pass one.", 2);
        }

        if (!string.IsNullOrEmpty(given))
        {
            if (_isSecret(given))
            {
                warnings.WriteLine($"warning: {Name} on the command line is visible to every user of this machine (ps, /proc); pass it with {Name}-file PATH or the {EnvironmentVariable} environment variable instead.");
            }

            return given;
        }

        if (!string.IsNullOrEmpty(file))
        {
            return ReadFile(file, Name + "-file");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        var fileFromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable + "_FILE");
        if (!string.IsNullOrEmpty(fromEnvironment) && !string.IsNullOrEmpty(fileFromEnvironment))
        {
            throw new CliException($"{EnvironmentVariable} and {EnvironmentVariable}_FILE are both set: unset one.", 2);
        }

        return !string.IsNullOrEmpty(fromEnvironment) ? fromEnvironment
            : !string.IsNullOrEmpty(fileFromEnvironment) ? ReadFile(fileFromEnvironment, EnvironmentVariable + "_FILE")
            : null;
    }

    private static string ReadFile(string path, string source)
    {
        string content;
        try
        {
            content = System.IO.File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"{source} '{path}' cannot be read: {exception.Message}", 2);
        }

        var value = content.Trim();
        return value.Length > 0 ? value : throw new CliException($"{source} '{path}' is empty: write the secret into it.", 2);
    }
}
