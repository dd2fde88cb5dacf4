namespace RecurrentCore.Training;

/// <summary>
/// One trainable float32 tensor: a PyTorch name, a shape, its values and its gradient, both row-major with
/// <c>Π Shape</c> elements. Value and gradient are memory views, so a layer can keep all of its tensors in one
/// allocation (or an RNN layer can expose its own weight storage) and still join a <see cref="ParameterSet"/>.
/// Gradients accumulate (backward adds); zeroing is explicit (<see cref="ZeroGrad"/>).
/// </summary>
public sealed class Parameter
{
    private readonly int[] _shape;
    private readonly IReadOnlyList<int> _shapeView;

    /// <summary>Creates a zero-filled parameter with a zero gradient, owning new storage.</summary>
    /// <param name="name">PyTorch state_dict name, e.g. <c>weight</c>, <c>head.bias</c> or <c>rnn.weight_ih_l0</c>.</param>
    /// <param name="shape">Dimensions, outermost first (PyTorch layout).</param>
    /// <exception cref="ArgumentException">The name is empty or a dimension is negative.</exception>
    public Parameter(string name, ReadOnlySpan<int> shape)
        : this(name, shape, new float[CountOf(shape)], new float[CountOf(shape)])
    {
    }

    /// <summary>Creates a parameter over existing storage (shared, not copied).</summary>
    /// <param name="name">PyTorch state_dict name.</param>
    /// <param name="shape">Dimensions, outermost first.</param>
    /// <param name="value">The values; length <c>Π shape</c>.</param>
    /// <param name="grad">The gradient; length <c>Π shape</c>, distinct from <paramref name="value"/>.</param>
    /// <exception cref="ArgumentException">The name is empty, a dimension is negative, or a length differs from <c>Π shape</c>.</exception>
    public Parameter(string name, ReadOnlySpan<int> shape, Memory<float> value, Memory<float> grad)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        int count = CountOf(shape);
        if (value.Length != count || grad.Length != count)
        {
            throw new ArgumentException(
                $"Parameter '{name}' of shape ({string.Join(", ", shape.ToArray())}) needs {count} values and gradients, got {value.Length} and {grad.Length}.",
                nameof(shape));
        }

        Name = name;
        _shape = shape.ToArray();
        _shapeView = Array.AsReadOnly(_shape);
        Value = value;
        Grad = grad;
    }

    /// <summary>The PyTorch state_dict name.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public IReadOnlyList<int> Shape => _shapeView;

    /// <summary>Number of elements, <c>Π Shape</c>.</summary>
    public int Length => Value.Length;

    /// <summary>The values, row-major.</summary>
    public Memory<float> Value { get; }

    /// <summary>The gradient ∂loss/∂value, row-major; backward passes add into it.</summary>
    public Memory<float> Grad { get; }

    /// <summary>The same storage under another name (e.g. with a module prefix <c>head.</c>).</summary>
    public Parameter Renamed(string name) => new(name, _shape, Value, Grad);

    /// <summary>Sets the gradient to zero.</summary>
    public void ZeroGrad() => Grad.Span.Clear();

    /// <summary>The shape as a new array (for writers that need one).</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    internal static int CountOf(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException("A dimension is negative.", nameof(shape));
            }

            count *= d;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException("The element count overflows.", nameof(shape));
            }
        }

        return (int)count;
    }
}
