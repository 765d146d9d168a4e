namespace Provisioning.Terraform.State;

/// <summary>Reads the module path out of a Terraform resource address.</summary>
internal static class TerraformAddress
{
    /// <summary>
    /// The module path of <paramref name="address"/>: <c>module.a["x"].module.b.null_resource.c[0]</c> gives
    /// <c>module.a["x"].module.b</c>, a root-module address gives "". Null when the address is malformed.
    /// </summary>
    public static string? ModulePath(string address)
    {
        var position = 0;
        var modulePathEnd = 0;
        while (address.AsSpan(position).StartsWith("module.", StringComparison.Ordinal))
        {
            position += "module.".Length;
            if (!SkipName(address, ref position) || !SkipIndex(address, ref position))
            {
                return null;
            }

            modulePathEnd = position;
            if (position >= address.Length || address[position] != '.')
            {
                return null;
            }

            position++;
        }

        if (address.AsSpan(position).StartsWith("data.", StringComparison.Ordinal))
        {
            position += "data.".Length;
        }

        // The resource itself: type.name[index].
        if (!SkipName(address, ref position) || position >= address.Length || address[position] != '.')
        {
            return null;
        }

        position++;
        if (!SkipName(address, ref position) || !SkipIndex(address, ref position) || position != address.Length)
        {
            return null;
        }

        return address[..modulePathEnd];
    }

    private static bool SkipName(string address, ref int position)
    {
        var start = position;
        while (position < address.Length && (char.IsAsciiLetterOrDigit(address[position]) || address[position] is '_' or '-'))
        {
            position++;
        }

        return position > start;
    }

    private static bool SkipIndex(string address, ref int position)
    {
        if (position >= address.Length || address[position] != '[')
        {
            return true;
        }

        position++;
        if (position < address.Length && address[position] == '"')
        {
            position++;
            while (position < address.Length && address[position] != '"')
            {
                position += address[position] == '\\' ? 2 : 1;
            }

            if (position >= address.Length)
            {
                return false;
            }

            position++;
        }
        else
        {
            var start = position;
            while (position < address.Length && char.IsAsciiDigit(address[position]))
            {
                position++;
            }

            if (position == start)
            {
                return false;
            }
        }

        if (position >= address.Length || address[position] != ']')
        {
            return false;
        }

        position++;
        return true;
    }
}
