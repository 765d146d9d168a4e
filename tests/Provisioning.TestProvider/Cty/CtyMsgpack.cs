using System.Buffers;
using System.Globalization;

using MessagePack;

namespace Provisioning.TestProvider.Cty;

/// <summary>
/// Terraform's msgpack encoding of values (DynamicValue.msgpack), as described in the plugin protocol's
/// object-wire-format.md: objects and maps as msgpack maps, lists and sets as arrays, numbers as integers,
/// floats or (when neither is exact) strings, null as nil, and an unknown value as an extension of type 0
/// (newer Terraform adds refinements as extension type 12, also read as unknown).
/// </summary>
internal static class CtyMsgpack
{
    private const sbyte UnknownExtension = 0;
    private const sbyte RefinedUnknownExtension = 12;

    public static object? Decode(ReadOnlyMemory<byte> bytes, CtyType type)
    {
        if (bytes.IsEmpty)
        {
            return null;
        }

        var reader = new MessagePackReader(bytes);
        return Read(ref reader, type);
    }

    public static byte[] Encode(object? value, CtyType type)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        Write(ref writer, value, type);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static object? Read(ref MessagePackReader reader, CtyType type)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.NextMessagePackType == MessagePackType.Extension)
        {
            var extension = reader.ReadExtensionFormat();
            if (extension.TypeCode is not (UnknownExtension or RefinedUnknownExtension))
            {
                throw new InvalidDataException($"msgpack extension type {extension.TypeCode} is not a Terraform value.");
            }

            return CtyValue.Unknown;
        }

        switch (type)
        {
            case CtyPrimitive { Name: "string" }:
                return reader.ReadString();
            case CtyPrimitive { Name: "bool" }:
                return reader.ReadBoolean();
            case CtyPrimitive { Name: "number" }:
                return reader.NextMessagePackType switch
                {
                    MessagePackType.Integer => (decimal)reader.ReadInt64(),
                    MessagePackType.Float => (decimal)reader.ReadDouble(),
                    MessagePackType.String => decimal.Parse(reader.ReadString()!, NumberStyles.Float, CultureInfo.InvariantCulture),
                    var other => throw new InvalidDataException($"msgpack {other} is not a number."),
                };
            case CtyCollection { Kind: "list" or "set" } collection:
            {
                var count = reader.ReadArrayHeader();
                var list = new List<object?>(count);
                for (var index = 0; index < count; index++)
                {
                    list.Add(Read(ref reader, collection.Element));
                }

                return list;
            }

            case CtyCollection { Kind: "map" } map:
            {
                var count = reader.ReadMapHeader();
                var result = new Dictionary<string, object?>(count, StringComparer.Ordinal);
                for (var index = 0; index < count; index++)
                {
                    var key = reader.ReadString()!;
                    result[key] = Read(ref reader, map.Element);
                }

                return result;
            }

            case CtyObject objectType:
            {
                var count = reader.ReadMapHeader();
                var result = objectType.Attributes.Keys.ToDictionary(name => name, _ => (object?)null, StringComparer.Ordinal);
                for (var index = 0; index < count; index++)
                {
                    var key = reader.ReadString()!;
                    if (!objectType.Attributes.TryGetValue(key, out var attributeType))
                    {
                        throw new InvalidDataException($"msgpack object has attribute '{key}' that its type does not have.");
                    }

                    result[key] = Read(ref reader, attributeType);
                }

                return result;
            }

            default:
                throw new InvalidDataException($"type {type} cannot be read from msgpack.");
        }
    }

    private static void Write(ref MessagePackWriter writer, object? value, CtyType type)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        if (CtyValue.IsUnknown(value))
        {
            writer.WriteExtensionFormat(new ExtensionResult(UnknownExtension, ReadOnlySequence<byte>.Empty));
            return;
        }

        switch (type, value)
        {
            case (CtyPrimitive { Name: "string" }, string text):
                writer.Write(text);
                return;
            case (CtyPrimitive { Name: "bool" }, bool flag):
                writer.Write(flag);
                return;
            case (CtyPrimitive { Name: "number" }, decimal number):
                if (decimal.Truncate(number) == number && number is >= long.MinValue and <= long.MaxValue)
                {
                    writer.Write((long)number);
                }
                else
                {
                    writer.Write((double)number);
                }

                return;
            case (CtyCollection { Kind: "list" or "set" } collection, List<object?> list):
                writer.WriteArrayHeader(list.Count);
                foreach (var element in list)
                {
                    Write(ref writer, element, collection.Element);
                }

                return;
            case (CtyCollection { Kind: "map" } map, Dictionary<string, object?> entries):
                writer.WriteMapHeader(entries.Count);
                foreach (var (key, element) in entries.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    writer.Write(key);
                    Write(ref writer, element, map.Element);
                }

                return;
            case (CtyObject objectType, Dictionary<string, object?> attributes):
                writer.WriteMapHeader(objectType.Attributes.Count);
                foreach (var (name, attributeType) in objectType.Attributes)
                {
                    writer.Write(name);
                    Write(ref writer, attributes.GetValueOrDefault(name), attributeType);
                }

                return;
            default:
                throw new InvalidOperationException($"The value {value} ({value.GetType().Name}) does not fit the type {type}: a bug in the test provider.");
        }
    }
}
