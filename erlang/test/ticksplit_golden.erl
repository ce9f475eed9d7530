%% Reads the text vectors under tests/data/golden/ that the C++ tests read too: one row per
%% line, whitespace-separated fields, `#' lines and blank lines skipped.
-module(ticksplit_golden).
-export([rows/1]).

-spec rows(string()) -> [[string()]].
rows(Name) ->
    {ok, Bin} = file:read_file(filename:join([ticksplit_ops_tests:data_dir(), "golden", Name])),
    [Fields || Line <- string:split(unicode:characters_to_list(Bin), "\n", all),
               [[C | _] | _] = Fields <- [string:lexemes(Line, " \t")], C =/= $#].
