using System.Globalization;
using RecurrentCore.Interop;

namespace RecurrentCore.Training;

/// <summary>
/// Saves and restores a <see cref="ParameterSet"/> (and optionally an <see cref="Optimizer"/>'s state) as a
/// safetensors file. Parameters are stored as F32 under their PyTorch names, so the file loads into
/// <c>model.load_state_dict(safetensors.torch.load_file(path), strict=False)</c>. Optimiser buffers are stored as
/// <c>optimizer.{parameter}.{buffer}</c> (PyTorch state keys: <c>momentum_buffer</c>, <c>exp_avg</c>, …);
/// metadata holds <c>format</c>, <c>optimizer.kind</c>, <c>optimizer.step</c> and <c>optimizer.lr</c>.
/// </summary>
public static class Checkpoint
{
    /// <summary>The <c>format</c> metadata value of files this class writes.</summary>
    public const string FormatName = "recurrentcore-checkpoint-1";

    private const string OptimizerPrefix = "optimizer.";

    /// <summary>Writes <paramref name="parameters"/> (and <paramref name="optimizer"/>'s state, if given) to <paramref name="path"/>.</summary>
    /// <param name="path">Destination file (overwritten).</param>
    /// <param name="parameters">The parameters, written in set order.</param>
    /// <param name="optimizer">An optimiser over <paramref name="parameters"/>, or null.</param>
    /// <param name="metadata">Extra string metadata (keys must not collide with the ones above).</param>
    public static void Save(string path, ParameterSet parameters, Optimizer? optimizer = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        File.WriteAllBytes(path, Write(parameters, optimizer, metadata));

    /// <summary>Serialises like <see cref="Save"/>.</summary>
    /// <exception cref="ArgumentException">A metadata key collides with a reserved one, or the optimiser is bound to another set.</exception>
    public static byte[] Write(ParameterSet parameters, Optimizer? optimizer = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (optimizer is not null && !ReferenceEquals(optimizer.Parameters, parameters))
        {
            throw new ArgumentException("The optimiser updates a different parameter set.", nameof(optimizer));
        }

        var tensors = new List<KeyValuePair<string, HostTensor>>();
        foreach (var p in parameters)
        {
            tensors.Add(new(p.Name, HostTensor.FromSingle(p.ShapeArray(), p.Value.Span)));
        }

        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = FormatName };
        if (optimizer is not null)
        {
            foreach (var (name, owner, buffer) in optimizer.StateBuffers())
            {
                tensors.Add(new(OptimizerPrefix + name, HostTensor.FromSingle(owner.ShapeArray(), buffer.Span)));
            }

            meta["optimizer.kind"] = optimizer.Kind;
            meta["optimizer.step"] = optimizer.StepCount.ToString(CultureInfo.InvariantCulture);
            meta["optimizer.lr"] = optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture);
        }

        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (!meta.TryAdd(key, value))
                {
                    throw new ArgumentException($"Metadata key '{key}' is reserved.", nameof(metadata));
                }
            }
        }

        return SafeTensors.Write(tensors, meta);
    }

    /// <summary>
    /// Reads <paramref name="path"/> into <paramref name="parameters"/> (in place) and, if given, into
    /// <paramref name="optimizer"/>'s state, step count and learning rate.
    /// </summary>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="InteropFormatException">The file is malformed, lacks a parameter or optimiser buffer, has a tensor
    /// of the wrong shape or a non-floating dtype, holds an unknown tensor, or its optimiser kind differs.</exception>
    public static IReadOnlyDictionary<string, string> Load(string path, ParameterSet parameters, Optimizer? optimizer = null) =>
        Apply(SafeTensors.ReadFile(path), parameters, optimizer, path);

    /// <summary>Applies an already read file, like <see cref="Load"/>; <paramref name="sourceName"/> names it in errors.</summary>
    /// <exception cref="InteropFormatException">See <see cref="Load"/>.</exception>
    public static IReadOnlyDictionary<string, string> Apply(SafeTensorsFile file, ParameterSet parameters, Optimizer? optimizer = null, string sourceName = "<checkpoint>")
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(parameters);
        string source = sourceName;
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            Copy(file, p.Name, p, p.Value.Span, source);
            used.Add(p.Name);
        }

        if (optimizer is not null)
        {
            if (!file.Metadata.TryGetValue("optimizer.kind", out string? kind))
            {
                throw InteropFormatException.Create(source, "holds no optimiser state");
            }

            if (kind != optimizer.Kind)
            {
                throw InteropFormatException.Create(source, $"holds '{kind}' optimiser state, not '{optimizer.Kind}'");
            }

            foreach (var (name, owner, buffer) in optimizer.StateBuffers())
            {
                Copy(file, OptimizerPrefix + name, owner, buffer.Span, source);
                used.Add(OptimizerPrefix + name);
            }

            if (!file.Metadata.TryGetValue("optimizer.step", out string? stepText) ||
                !long.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out long step))
            {
                throw InteropFormatException.Create(source, "optimizer.step metadata is missing or not a non-negative integer");
            }

            optimizer.RestoreStepCount(step);
            if (file.Metadata.TryGetValue("optimizer.lr", out string? lrText) &&
                double.TryParse(lrText, NumberStyles.Float, CultureInfo.InvariantCulture, out double lr) && lr >= 0 && double.IsFinite(lr))
            {
                optimizer.LearningRate = lr;
            }
        }

        foreach (var (name, _) in file.Tensors)
        {
            if (!used.Contains(name) && !(optimizer is null && name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
            {
                throw InteropFormatException.Create(source, $"tensor '{name}' matches no parameter");
            }
        }

        return file.Metadata;
    }

    private static void Copy(SafeTensorsFile file, string name, Parameter owner, Span<float> destination, string source)
    {
        if (!file.TryGet(name, out var tensor))
        {
            throw InteropFormatException.Create(source, $"tensor '{name}' is missing");
        }

        if (!tensor.Shape.SequenceEqual(owner.Shape))
        {
            throw InteropFormatException.Create(
                source, $"tensor '{name}' has shape ({string.Join(", ", tensor.Shape)}), expected ({string.Join(", ", owner.Shape)})");
        }

        if (tensor.DType is not (TensorDType.F32 or TensorDType.F64 or TensorDType.F16 or TensorDType.BF16))
        {
            throw InteropFormatException.Create(source, $"tensor '{name}' has dtype {tensor.DType}, expected a floating type");
        }

        tensor.ToSingle().CopyTo(destination);
    }
}
