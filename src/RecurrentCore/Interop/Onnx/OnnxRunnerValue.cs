namespace RecurrentCore.Interop.Onnx;

/// <summary>A fed input or an output of an <see cref="OnnxRunner"/>, with its planned shape.</summary>
/// <param name="Name">The graph value's name.</param>
/// <param name="ElementType">Its element type.</param>
/// <param name="Shape">Its dimensions for this runner.</param>
public sealed record OnnxRunnerValue(string Name, OnnxElementType ElementType, IReadOnlyList<int> Shape)
{
    /// <summary>The number of elements (the buffer length <see cref="OnnxRunner.Run"/> expects).</summary>
    public int Length { get; } = Shape.Aggregate(1, (a, d) => checked(a * d));
}
