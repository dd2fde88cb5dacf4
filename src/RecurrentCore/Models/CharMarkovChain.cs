using RecurrentCore.Training;

namespace RecurrentCore.Models;

/// <summary>
/// A character-level <see cref="MarkovChain"/>: an alphabet of distinct chars maps char k of <see cref="Alphabet"/> to
/// symbol k. <see cref="Fit"/> takes the alphabet from the text (ordinal order).
/// </summary>
public sealed class CharMarkovChain
{
    private readonly Dictionary<char, int> _index;

    /// <summary>Creates an empty chain over <paramref name="alphabet"/>.</summary>
    /// <exception cref="ArgumentException">The alphabet is empty or repeats a char.</exception>
    public CharMarkovChain(string alphabet, double smoothing = 1.0)
    {
        ArgumentException.ThrowIfNullOrEmpty(alphabet);
        _index = [];
        for (int k = 0; k < alphabet.Length; k++)
        {
            if (!_index.TryAdd(alphabet[k], k))
            {
                throw new ArgumentException($"The alphabet repeats '{alphabet[k]}'.", nameof(alphabet));
            }
        }

        Alphabet = alphabet;
        Chain = new MarkovChain(alphabet.Length, smoothing);
    }

    /// <summary>The chars, symbol k = Alphabet[k].</summary>
    public string Alphabet { get; }

    /// <summary>The underlying integer chain.</summary>
    public MarkovChain Chain { get; }

    /// <summary>Builds the alphabet from the distinct chars of <paramref name="text"/> (ordinal order) and observes it.</summary>
    /// <exception cref="ArgumentException">The text is empty.</exception>
    public static CharMarkovChain Fit(string text, double smoothing = 1.0)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        var chars = text.Distinct().Order().ToArray();
        var chain = new CharMarkovChain(new string(chars), smoothing);
        chain.Observe(text);
        return chain;
    }

    /// <summary>The symbols of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">A char is not in the alphabet.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var symbols = new int[text.Length];
        for (int t = 0; t < text.Length; t++)
        {
            if (!_index.TryGetValue(text[t], out symbols[t]))
            {
                throw new ArgumentException($"'{text[t]}' (U+{(int)text[t]:X4}) at index {t} is not in the alphabet.", nameof(text));
            }
        }

        return symbols;
    }

    /// <summary>The text of <paramref name="symbols"/>.</summary>
    public string Decode(ReadOnlySpan<int> symbols)
    {
        var chars = new char[symbols.Length];
        for (int t = 0; t < symbols.Length; t++)
        {
            chars[t] = Alphabet[symbols[t]];
        }

        return new string(chars);
    }

    /// <summary>Adds the transitions of <paramref name="text"/>.</summary>
    public void Observe(string text) => Chain.Observe(Encode(text));

    /// <summary>ln P(text[1..] | text[0]) in nats; see <see cref="MarkovChain.LogLikelihood"/>.</summary>
    public double LogLikelihood(string text) => Chain.LogLikelihood(Encode(text));

    /// <summary>Nats per predicted char; see <see cref="MarkovChain.CrossEntropy"/>.</summary>
    public double CrossEntropy(string text) => Chain.CrossEntropy(Encode(text));

    /// <summary>Samples <paramref name="length"/> chars starting with <paramref name="start"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="start"/> is not in the alphabet.</exception>
    public string Sample(char start, int length, SeededRandom random) =>
        Decode(Chain.Sample(Encode(start.ToString())[0], length, random));
}
