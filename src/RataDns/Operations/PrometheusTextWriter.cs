using System.Globalization;
using System.Text;

namespace RataDns.App.Operations;

/// <summary>
/// Writes metrics in the Prometheus text exposition format, version 0.0.4: per family a <c># HELP</c> and a
/// <c># TYPE</c> line, then one <c>name{label="value",...} value</c> line per sample. Label values escape <c>\</c>,
/// <c>"</c> and line feeds; help texts escape <c>\</c> and line feeds; numbers are written invariantly, with
/// <c>+Inf</c>, <c>-Inf</c> and <c>NaN</c> for the special values.
/// </summary>
internal sealed class PrometheusTextWriter
{
    /// <summary>The content type of the format, as a scraper expects it in the response.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new(16 * 1024);

    /// <summary>Starts a family: its help and type (<c>counter</c>, <c>gauge</c>, <c>histogram</c>, ...).</summary>
    public void Family(string name, string type, string help)
    {
        _text.Append("# HELP ").Append(name).Append(' ');
        foreach (char c in help)
        {
            _ = c switch
            {
                '\\' => _text.Append("\\\\"),
                '\n' => _text.Append("\\n"),
                _ => _text.Append(c),
            };
        }

        _text.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    /// <summary>A sample without labels.</summary>
    public void Sample(string name, double value) => Sample(name, [], value);

    /// <summary>A sample with one label.</summary>
    public void Sample(string name, string label, string labelValue, double value) => Sample(name, [(label, labelValue)], value);

    /// <summary>A sample with any number of labels, in the order given.</summary>
    public void Sample(string name, ReadOnlySpan<(string Name, string Value)> labels, double value)
    {
        _text.Append(name);
        if (!labels.IsEmpty)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }

                _text.Append(labels[i].Name).Append("=\"");
                foreach (char c in labels[i].Value)
                {
                    _ = c switch
                    {
                        '\\' => _text.Append("\\\\"),
                        '"' => _text.Append("\\\""),
                        '\n' => _text.Append("\\n"),
                        _ => _text.Append(c),
                    };
                }

                _text.Append('"');
            }

            _text.Append('}');
        }

        _text.Append(' ').Append(Number(value)).Append('\n');
    }

    /// <summary>The text written so far.</summary>
    public override string ToString() => _text.ToString();

    /// <summary>A value as the format writes it: integers without a fraction, others round-trippable.</summary>
    public static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value == Math.Floor(value) && Math.Abs(value) < 1e15 ? ((long)value).ToString(CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);
}
