using System.Diagnostics.CodeAnalysis;

namespace RecurrentCore.Interop;

/// <summary>The contents of a safetensors file: its tensors in data-offset order and its <c>__metadata__</c> map.</summary>
public sealed class SafeTensorsFile
{
    private readonly Dictionary<string, HostTensor> _byName;
    private readonly string _sourceName;

    internal SafeTensorsFile(
        string sourceName,
        IReadOnlyList<KeyValuePair<string, HostTensor>> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        _sourceName = sourceName;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var pair in tensors)
        {
            _byName.Add(pair.Key, pair.Value);
        }
    }

    /// <summary>The string-to-string <c>__metadata__</c> map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Name and tensor pairs in the order their data lies in the file (ascending offsets).</summary>
    public IReadOnlyList<KeyValuePair<string, HostTensor>> Tensors { get; }

    /// <summary>The tensor called <paramref name="name"/> (ordinal comparison).</summary>
    /// <exception cref="InteropFormatException">The file has no tensor of that name.</exception>
    public HostTensor this[string name] =>
        _byName.TryGetValue(name, out var tensor)
            ? tensor
            : throw InteropFormatException.Create(_sourceName, $"no tensor named '{name}' (the file has {_byName.Count} tensors)");

    /// <summary>Looks a tensor up by name (ordinal comparison).</summary>
    public bool TryGet(string name, [MaybeNullWhen(false)] out HostTensor tensor) => _byName.TryGetValue(name, out tensor);
}
