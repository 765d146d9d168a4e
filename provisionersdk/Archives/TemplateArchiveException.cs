namespace Provisioning.Sdk.Archives;

/// <summary>
/// A template archive (or the directory being packed into one) breaks a rule: an entry escapes the
/// archive root, has a type that is not allowed, or exceeds a limit. The message names the entry,
/// the rule, and what to do about it.
/// </summary>
public sealed class TemplateArchiveException : Exception
{
    /// <summary>Creates an exception without details.</summary>
    public TemplateArchiveException()
        : base("The template archive is invalid.")
    {
    }

    /// <summary>Creates an exception with a message that says what is wrong and how to fix it.</summary>
    public TemplateArchiveException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public TemplateArchiveException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception about one entry of the archive.</summary>
    public TemplateArchiveException(string entryName, string message)
        : base(message)
    {
        EntryName = entryName;
    }

    /// <summary>Creates an exception about one entry of the archive, with the error that caused it.</summary>
    public TemplateArchiveException(string entryName, string message, Exception innerException)
        : base(message, innerException)
    {
        EntryName = entryName;
    }

    /// <summary>The archive path of the offending entry, when the problem is about one entry.</summary>
    public string? EntryName { get; }
}
