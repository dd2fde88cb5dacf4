using System.Globalization;
using System.Text.Json;
using RecurrentCore.Interop;
using RecurrentCore.Layers;
using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A character-level <see cref="RecurrentLanguageModel"/>: char k of <see cref="Vocabulary"/> is token k. Checkpoints
/// are safetensors with the parameters under PyTorch names and the architecture and vocabulary in <c>__metadata__</c>
/// (<c>model.kind = char-lm</c>, <c>model.cell</c>, <c>model.hidden</c>, <c>model.layers</c>, <c>model.embedding</c>,
/// <c>model.vocabulary</c> as a JSON string).
/// </summary>
public sealed class CharLanguageModel
{
    /// <summary>The <c>model.kind</c> metadata value.</summary>
    public const string Kind = "char-lm";

    private readonly Dictionary<char, int> _index = [];

    /// <summary>Creates a freshly initialised model over <paramref name="vocabulary"/> (distinct chars).</summary>
    /// <exception cref="ArgumentException">The vocabulary is empty or repeats a char.</exception>
    public CharLanguageModel(string vocabulary, CellKind cell, int hiddenSize, int numLayers, int embeddingSize, SeededRandom random)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabulary);
        for (int k = 0; k < vocabulary.Length; k++)
        {
            if (!_index.TryAdd(vocabulary[k], k))
            {
                throw new ArgumentException($"the vocabulary repeats '{vocabulary[k]}'", nameof(vocabulary));
            }
        }

        Vocabulary = vocabulary;
        Model = new RecurrentLanguageModel(vocabulary.Length, embeddingSize, cell, hiddenSize, numLayers, random);
    }

    /// <summary>The chars, token k = char k.</summary>
    public string Vocabulary { get; }

    /// <summary>The token model.</summary>
    public RecurrentLanguageModel Model { get; }

    /// <summary>The distinct chars of <paramref name="text"/> in ordinal order.</summary>
    public static string VocabularyOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chars = text.Distinct().ToArray();
        Array.Sort(chars);
        return new string(chars);
    }

    /// <summary>Whether <paramref name="c"/> is in the vocabulary.</summary>
    public bool Contains(char c) => _index.ContainsKey(c);

    /// <summary>The token ids of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">A char is not in the vocabulary (the message names it).</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!_index.TryGetValue(text[i], out ids[i]))
            {
                throw new ArgumentException($"char '{text[i]}' (U+{(int)text[i]:X4}) at {i} is not in the model's vocabulary", nameof(text));
            }
        }

        return ids;
    }

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var chars = new char[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            chars[i] = Vocabulary[ids[i]];
        }

        return new string(chars);
    }

    /// <summary>Feeds <paramref name="prompt"/> and samples <paramref name="length"/> chars (one streaming step each).</summary>
    public string Generate(string prompt, int length, double temperature, int topK, SeededRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new int[length];
        Model.CreateGenerator().Generate(Encode(prompt), output, temperature, topK, random);
        return Decode(output);
    }

    /// <summary>
    /// The mean next-char cross-entropy of <paramref name="text"/> in nats per char, with W_ih and W_hh in
    /// <paramref name="format"/> (biases, embedding and head stay float32): from a zero state, one streaming step per char,
    /// char t+1 predicted from chars 0..t; <c>loss = (1/(n−1)) Σ_t [logsumexp(z_t) − z_t[c_{t+1}]]</c>, summed in double.
    /// float32 runs the model's own <see cref="StreamState"/>; bf16 and int8 a <see cref="QuantizedLayer"/> converted
    /// from it (see docs/numerics.md). The model is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The text has fewer than 2 chars or a char outside the vocabulary (named).</exception>
    /// <exception cref="NotSupportedException">The format cannot run this model's layers (a bidirectional model has none here).</exception>
    public double Evaluate(string text, WeightFormat format = WeightFormat.Float32)
    {
        int[] ids = Encode(text);
        if (ids.Length < 2)
        {
            throw new ArgumentException($"the text has {ids.Length} chars; evaluation predicts each char after the first, so it needs at least 2", nameof(text));
        }

        var layer = Model.Recurrent.Layer;
        var h = new float[Model.Recurrent.Config.HiddenSize];
        Action<float[], float[]> step;
        if (format == WeightFormat.Float32)
        {
            var stream = layer.CreateStream(1);
            step = (x, y) => stream.Step(x, y);
        }
        else
        {
            var stream = QuantizedLayer.FromLayer(layer, format).CreateStream(1);
            step = (x, y) => stream.Step(x, y);
        }

        var x = new float[Model.Embedding.Dim];
        var logits = new float[Model.VocabularySize];
        var id = new int[1];
        double sum = 0;
        for (int t = 0; t + 1 < ids.Length; t++)
        {
            id[0] = ids[t];
            Model.Embedding.Forward(id, x);
            step(x, h);
            Model.Head.Forward(h, logits, 1);
            double max = double.NegativeInfinity;
            foreach (float z in logits)
            {
                max = Math.Max(max, z);
            }

            double exp = 0;
            foreach (float z in logits)
            {
                exp += Math.Exp(z - max);
            }

            sum += max + Math.Log(exp) - logits[ids[t + 1]];
        }

        return sum / (ids.Length - 1);
    }

    /// <summary>
    /// Writes the parameters (and <paramref name="optimizer"/>'s state, if given) with the vocabulary and architecture in
    /// the metadata; writes a temporary file beside <paramref name="path"/> and renames it, so a failure never leaves
    /// a partial checkpoint.
    /// </summary>
    public void Save(string path, Optimizer? optimizer = null, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var cfg = Model.Recurrent.Config;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model.kind"] = Kind,
            ["model.cell"] = cfg.Cell.Name(),
            ["model.hidden"] = cfg.HiddenSize.ToString(CultureInfo.InvariantCulture),
            ["model.layers"] = cfg.NumLayers.ToString(CultureInfo.InvariantCulture),
            ["model.embedding"] = cfg.InputSize.ToString(CultureInfo.InvariantCulture),
            ["model.vocabulary"] = JsonSerializer.Serialize(Vocabulary, VocabularyJson.Default.String),
        };
        if (extraMetadata is not null)
        {
            foreach (var (k, v) in extraMetadata)
            {
                meta.Add(k, v);
            }
        }

        byte[] bytes = Checkpoint.Write(Model.Parameters, optimizer, meta);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InteropFormatException">The file is not safetensors, not a char-lm checkpoint, or its tensors do not fit its metadata.</exception>
    public static CharLanguageModel Load(string path)
    {
        var file = SafeTensors.ReadFile(path);
        var m = file.Metadata;
        if (!m.TryGetValue("model.kind", out var kind) || kind != Kind)
        {
            throw InteropFormatException.Create(path, $"is not a RecurrentCore {Kind} checkpoint (no model.kind = {Kind} in its metadata)");
        }

        string Get(string key) => m.TryGetValue(key, out var v) ? v : throw InteropFormatException.Create(path, $"metadata '{key}' is missing");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw InteropFormatException.Create(path, $"metadata '{key}' is not a positive integer");
        CellKind cell;
        string? vocabulary;
        try
        {
            cell = CellKinds.Parse(Get("model.cell"));
            vocabulary = JsonSerializer.Deserialize(Get("model.vocabulary"), VocabularyJson.Default.String);
        }
        catch (Exception e) when (e is ArgumentException or JsonException)
        {
            throw InteropFormatException.Create(path, $"bad model metadata: {e.Message}");
        }

        if (string.IsNullOrEmpty(vocabulary))
        {
            throw InteropFormatException.Create(path, "metadata 'model.vocabulary' is empty");
        }

        CharLanguageModel model;
        try
        {
            model = new CharLanguageModel(vocabulary, cell, Int("model.hidden"), Int("model.layers"), Int("model.embedding"), new SeededRandom(0));
        }
        catch (ArgumentException e)
        {
            throw InteropFormatException.Create(path, $"bad model metadata: {e.Message}");
        }

        Checkpoint.Apply(file, model.Model.Parameters, null, path);
        model.Model.RefreshWeights();
        return model;
    }
}

/// <summary>Source-generated JSON for the vocabulary string (trimming- and AOT-safe).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class VocabularyJson : System.Text.Json.Serialization.JsonSerializerContext;
