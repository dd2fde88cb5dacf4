using System.Collections;

namespace RecurrentCore.Training;

/// <summary>
/// An ordered list of <see cref="Parameter"/>s with unique names, in PyTorch <c>state_dict</c> order: what optimisers,
/// clipping and checkpoints act on. A model builds one set from its layers, e.g. <c>rnn.weight_ih_l0</c>, …,
/// <c>head.weight</c>, <c>head.bias</c> (<see cref="AddRange(string, IEnumerable{Parameter})"/> adds a prefix).
/// </summary>
public sealed class ParameterSet : IReadOnlyList<Parameter>
{
    private readonly List<Parameter> _items = [];
    private readonly Dictionary<string, Parameter> _byName = new(StringComparer.Ordinal);

    /// <summary>Creates an empty set.</summary>
    public ParameterSet()
    {
    }

    /// <summary>Creates a set holding <paramref name="parameters"/> in order.</summary>
    /// <exception cref="ArgumentException">Two parameters share a name.</exception>
    public ParameterSet(IEnumerable<Parameter> parameters) => AddRange("", parameters);

    /// <summary>Number of parameters (tensors).</summary>
    public int Count => _items.Count;

    /// <summary>Total number of scalar elements over all parameters.</summary>
    public long ElementCount
    {
        get
        {
            long n = 0;
            foreach (var p in _items)
            {
                n += p.Length;
            }

            return n;
        }
    }

    /// <summary>The parameter at <paramref name="index"/> (insertion order).</summary>
    public Parameter this[int index] => _items[index];

    /// <summary>The parameter named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public Parameter this[string name] =>
        _byName.TryGetValue(name, out var p) ? p : throw new KeyNotFoundException($"No parameter named '{name}'.");

    /// <summary>Whether a parameter named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Appends <paramref name="parameter"/>.</summary>
    /// <exception cref="ArgumentException">The name is already taken.</exception>
    public void Add(Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (!_byName.TryAdd(parameter.Name, parameter))
        {
            throw new ArgumentException($"A parameter named '{parameter.Name}' is already in the set.", nameof(parameter));
        }

        _items.Add(parameter);
    }

    /// <summary>Appends each of <paramref name="parameters"/> renamed <c>prefix + name</c> (same storage).</summary>
    /// <param name="prefix">Module prefix including its dot, e.g. <c>"head."</c>; empty for none.</param>
    /// <param name="parameters">The parameters, in order.</param>
    /// <exception cref="ArgumentException">A resulting name is already taken.</exception>
    public void AddRange(string prefix, IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var p in parameters)
        {
            Add(prefix.Length == 0 ? p : p.Renamed(prefix + p.Name));
        }
    }

    /// <summary>Sets every gradient to zero (PyTorch <c>zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _items)
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Enumerates the parameters in order.</summary>
    public List<Parameter>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<Parameter> IEnumerable<Parameter>.GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
