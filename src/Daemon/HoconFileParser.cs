using Akka.Configuration;

namespace VhsaKmt.Daemon;

/// <summary>
/// Parses a user's HOCON file. Akka's parser loops forever on some malformed input (e.g. an
/// unclosed array), so the parse runs on its own background thread with a time limit: a bad file
/// must end in a clear error, never a hung daemon.
/// </summary>
public static class HoconFileParser
{
    public static readonly TimeSpan DefaultLimit = TimeSpan.FromSeconds(3);

    public static Config Parse(string file, TimeSpan limit)
    {
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationInvalidException($"cannot read config file '{file}': {e.Message}", e);
        }

        Config? parsed = null;
        Exception? failure = null;
        var parser = new Thread(() =>
        {
            try
            {
                parsed = ConfigurationFactory.ParseString(text);
            }
            // Whatever Akka's parser throws on this text is a verdict on the user's file, not a daemon bug.
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true, // a stuck parse must not keep the process alive
            Name = "hocon-parse",
        };
        parser.Start();
        if (!parser.Join(limit))
            throw new ConfigurationInvalidException($"config file '{file}' is not valid HOCON: the parser did not finish within {limit.TotalSeconds:0}s");
        if (failure is not null)
            throw new ConfigurationInvalidException($"config file '{file}' is not valid HOCON: {failure.Message}", failure);
        return parsed!;
    }
}
