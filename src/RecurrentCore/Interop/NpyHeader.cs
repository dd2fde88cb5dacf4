using System.Globalization;

namespace RecurrentCore.Interop;

/// <summary>
/// Strict parser for the Python-literal header of a .npy file:
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c> followed by spaces and a newline.
/// Grammar: dict := '{' (key ':' value ',')* [key ':' value] '}'; key := string; value := string | True | False |
/// tuple of non-negative integers. Exactly the keys descr, fortran_order and shape must appear, once each.
/// </summary>
internal sealed class NpyHeader
{
    private readonly string _text;
    private readonly string _source;
    private int _pos;

    private NpyHeader(string text, string source)
    {
        _text = text;
        _source = source;
    }

    /// <summary>The dtype string, e.g. "&lt;f4".</summary>
    public string Descr { get; private set; } = "";

    /// <summary>True when the data is column-major.</summary>
    public bool FortranOrder { get; private set; }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; private set; } = [];

    /// <summary>Parses <paramref name="text"/>; every problem becomes an <see cref="InteropFormatException"/>.</summary>
    public static NpyHeader Parse(string text, string source)
    {
        var header = new NpyHeader(text, source);
        header.ParseDict();
        return header;
    }

    private void ParseDict()
    {
        SkipSpace();
        if (!TryConsume('{'))
        {
            throw Fail("header is not a dict: it must start with '{'");
        }

        bool hasDescr = false, hasOrder = false, hasShape = false;
        while (true)
        {
            SkipSpace();
            if (TryConsume('}'))
            {
                break;
            }

            string key = ParseString("dict key");
            SkipSpace();
            Expect(':');
            SkipSpace();
            switch (key)
            {
                case "descr":
                    CheckOnce(ref hasDescr, key);
                    if (Peek() == '[')
                    {
                        throw Fail("descr is a list: structured dtypes are not supported");
                    }

                    Descr = ParseString("descr value");
                    break;
                case "fortran_order":
                    CheckOnce(ref hasOrder, key);
                    FortranOrder = ParseBool();
                    break;
                case "shape":
                    CheckOnce(ref hasShape, key);
                    Shape = ParseShape();
                    break;
                default:
                    throw Fail($"header has unexpected key '{key}' (expected descr, fortran_order, shape)");
            }

            SkipSpace();
            if (TryConsume(','))
            {
                continue;
            }

            SkipSpace();
            Expect('}');
            break;
        }

        SkipSpace();
        if (_pos != _text.Length)
        {
            throw Fail($"unexpected text after the header dict at offset {_pos}");
        }

        if (!hasDescr || !hasOrder || !hasShape)
        {
            string missing = !hasDescr ? "descr" : !hasOrder ? "fortran_order" : "shape";
            throw Fail($"header is missing key '{missing}'");
        }
    }

    private void CheckOnce(ref bool seen, string key)
    {
        if (seen)
        {
            throw Fail($"header has duplicate key '{key}'");
        }

        seen = true;
    }

    private string ParseString(string what)
    {
        char quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Fail($"expected a quoted string for the {what} at offset {_pos}, found {Describe()}");
        }

        _pos++;
        int start = _pos;
        while (_pos < _text.Length && _text[_pos] != quote)
        {
            if (_text[_pos] == '\\')
            {
                throw Fail($"escape sequences are not supported in header strings (offset {_pos})");
            }

            _pos++;
        }

        if (_pos >= _text.Length)
        {
            throw Fail($"unterminated string for the {what} starting at offset {start - 1}");
        }

        string value = _text[start.._pos];
        _pos++;
        return value;
    }

    private bool ParseBool()
    {
        if (TryConsumeWord("True"))
        {
            return true;
        }

        if (TryConsumeWord("False"))
        {
            return false;
        }

        throw Fail($"fortran_order must be True or False, found {Describe()}");
    }

    private int[] ParseShape()
    {
        if (!TryConsume('('))
        {
            throw Fail($"shape must be a tuple, found {Describe()}");
        }

        var dims = new List<int>();
        while (true)
        {
            SkipSpace();
            if (TryConsume(')'))
            {
                // "(5)" is an int in Python, not a tuple; numpy always writes "(5,)".
                return dims.ToArray();
            }

            dims.Add(ParseDim(dims.Count));
            SkipSpace();
            if (TryConsume(','))
            {
                continue;
            }

            SkipSpace();
            if (dims.Count == 1)
            {
                throw Fail("shape (n) is not a tuple: a one-dimensional shape is written (n,)");
            }

            if (!TryConsume(')'))
            {
                throw Fail($"expected ',' or ')' in shape at offset {_pos}, found {Describe()}");
            }

            return dims.ToArray();
        }
    }

    private int ParseDim(int axis)
    {
        if (Peek() == '-')
        {
            throw Fail($"shape[{axis}] is negative");
        }

        int start = _pos;
        long value = 0;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
        {
            value = (value * 10) + (_text[_pos] - '0');
            if (value > int.MaxValue)
            {
                throw Fail($"shape[{axis}] exceeds {int.MaxValue}");
            }

            _pos++;
        }

        if (_pos == start)
        {
            throw Fail($"shape[{axis}] must be a non-negative integer, found {Describe()}");
        }

        // Python 2 era numpy wrote long literals such as 3L.
        if (_pos < _text.Length && _text[_pos] == 'L')
        {
            _pos++;
        }

        return (int)value;
    }

    private bool TryConsumeWord(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
        {
            _pos += word.Length;
            return true;
        }

        return false;
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r')
        {
            _pos++;
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private bool TryConsume(char c)
    {
        if (Peek() == c && _pos < _text.Length)
        {
            _pos++;
            return true;
        }

        return false;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
        {
            throw Fail($"expected '{c}' at offset {_pos}, found {Describe()}");
        }
    }

    private string Describe() =>
        _pos >= _text.Length ? "end of header" : "'" + (char.IsControl(_text[_pos]) ? "\\u" + ((int)_text[_pos]).ToString("x4", CultureInfo.InvariantCulture) : _text[_pos].ToString()) + "'";

    private InteropFormatException Fail(string problem) => InteropFormatException.Create(_source, problem);
}
