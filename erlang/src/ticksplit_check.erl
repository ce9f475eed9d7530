%% @doc Checks histories with `ticksplit-ctl check' from Erlang:
%% ```
%% {valid, Report} = ticksplit_check:run(["ops.jsonl"], cas_register, #{}).
%% '''
%% runs `ticksplit-ctl check FILE... --model MODEL --json [--max-ms N] [--max-mb N]
%% [--window-ms N]' and returns the verdict with the decoded JSON report (a map with binary
%% keys: `verdict', `model', `files', `ops', `keys', `faults'; see ticksplit-ctl's
%% documentation).
%%
%% Models: `register', `cas_register' (or "cas-register"), `kv', `set', `queue', `counter',
%% as atoms or strings. Options: `max_ms', `max_mb' (the search's budget), `window_ms' (the
%% detection window's upper bound, for attributing anomalies to faults when the history has
%% no run_start line), `timeout_ms' (how long to wait for the checker: default 120000, or
%% max_ms + 30000), `ctl' (the executable). Without `ctl', the application env `ctl', then
%% the environment variable `TICKSPLIT_CTL', then `ticksplit-ctl' on the PATH.
%%
%% Exit status 0, 1, 3 give `{valid | invalid | unknown, Report}'; 2 gives
%% `{error, {usage, Text}}' (the checker's message); other failures `{error, Reason}':
%% `{ctl_not_found, Name}', `{bad_model, M}', `{bad_option, K, V}', `{bad_output, Status,
%% Stdout}', `{exit_status, Status, Text}', `timeout' (the checker is killed).
-module(ticksplit_check).

-export([run/3]).

-type model() :: register | cas_register | kv | set | queue | counter | string() | binary().
-export_type([model/0]).

-define(DEFAULT_TIMEOUT_MS, 120000).

%% @doc Runs the checker on the history files; see the module doc.
-spec run([file:filename_all()], model(), map()) ->
          {valid | invalid | unknown, map()} | {error, term()}.
run(Files, Model, Opts) when is_list(Files), is_map(Opts) ->
    case {model(Model), flags(Opts), ctl(Opts)} of
        {{error, _} = E, _, _} -> E;
        {_, {error, _} = E, _} -> E;
        {_, _, {error, _} = E} -> E;
        {{ok, M}, {ok, Flags}, {ok, Ctl}} ->
            Args = ["check" | [to_list(F) || F <- Files]] ++ ["--model", M, "--json" | Flags],
            verdict(exec(Ctl, Args, timeout(Opts)))
    end;
run(Files, _, Opts) ->
    {error, {badarg, Files, Opts}}.

model(M) when M =:= register; M =:= kv; M =:= set; M =:= queue; M =:= counter ->
    {ok, atom_to_list(M)};
model(cas_register) -> {ok, "cas-register"};
model(M) when is_binary(M) -> model(binary_to_list(M));
model(M) when is_list(M) ->
    case lists:member(M, ["register", "cas-register", "kv", "set", "queue", "counter"]) of
        true -> {ok, M};
        false when M =:= "cas_register" -> {ok, "cas-register"};
        false -> {error, {bad_model, M}}
    end;
model(M) -> {error, {bad_model, M}}.

flags(Opts) ->
    Known = [ctl, timeout_ms, max_ms, max_mb, window_ms],
    case [K || K <- maps:keys(Opts), not lists:member(K, Known)] of
        [K | _] -> {error, {unknown_option, K}};
        [] ->
            Bad = [{K, V} || {K, V} <- maps:to_list(Opts), K =/= ctl,
                             not (is_integer(V) andalso V > 0)],
            case Bad of
                [{K, V} | _] -> {error, {bad_option, K, V}};
                [] -> {ok, lists:append([["--" ++ flag(K), integer_to_list(V)]
                                         || K <- [max_ms, max_mb, window_ms], #{K := V} <- [Opts]])}
            end
    end.

flag(max_ms) -> "max-ms";
flag(max_mb) -> "max-mb";
flag(window_ms) -> "window-ms".

timeout(#{timeout_ms := T}) -> T;
timeout(#{max_ms := M}) -> M + 30000;
timeout(_) -> ?DEFAULT_TIMEOUT_MS.

%% The executable: the option, the application env, $TICKSPLIT_CTL, the PATH.
ctl(Opts) ->
    Given = case Opts of
                #{ctl := C} -> C;
                _ ->
                    case application:get_env(ticksplit, ctl) of
                        {ok, C} -> C;
                        undefined ->
                            case os:getenv("TICKSPLIT_CTL") of
                                false -> "ticksplit-ctl";
                                "" -> "ticksplit-ctl";
                                C -> C
                            end
                    end
            end,
    Name = to_list(Given),
    Found = case lists:member($/, Name) of
                true -> filelib:is_regular(Name) andalso Name;
                false -> os:find_executable(Name)
            end,
    case Found of
        false -> {error, {ctl_not_found, Name}};
        Path -> {ok, Path}
    end.

%%% Running it

%% stdout through the port; stderr into a file (a shell redirects it) for usage errors, so
%% that a message never mixes into the JSON.
exec(Ctl, Args, TimeoutMs) ->
    ErrFile = filename:join(tmp_dir(), io_lib:format("ticksplit-check-~s-~b.err",
                                                      [os:getpid(), erlang:unique_integer([positive])])),
    Sh = case os:find_executable("sh") of
             false -> "/bin/sh";
             Found -> Found
         end,
    Port = open_port({spawn_executable, Sh},
                     [{args, ["-c", "exec \"$0\" \"$@\" 2>\"$TICKSPLIT_CHECK_ERR\"", Ctl | Args]},
                      {env, [{"TICKSPLIT_CHECK_ERR", lists:flatten(ErrFile)}]},
                      exit_status, binary, use_stdio, hide]),
    Deadline = erlang:monotonic_time(millisecond) + TimeoutMs,
    Result = collect(Port, Deadline, []),
    Err = case file:read_file(ErrFile) of
              {ok, E} -> E;
              _ -> <<>>
          end,
    _ = file:delete(ErrFile),
    case Result of
        {exit, Status, Out} -> {Status, Out, Err};
        timeout -> timeout
    end.

collect(Port, Deadline, Acc) ->
    receive
        {Port, {data, Data}} -> collect(Port, Deadline, [Data | Acc]);
        {Port, {exit_status, Status}} -> {exit, Status, iolist_to_binary(lists:reverse(Acc))}
    after max(0, Deadline - erlang:monotonic_time(millisecond)) ->
            kill(Port),
            timeout
    end.

%% Kills the checker we started (by its OS pid: closing the port does not end it).
kill(Port) ->
    case erlang:port_info(Port, os_pid) of
        {os_pid, Pid} -> _ = os:cmd("kill -KILL " ++ integer_to_list(Pid)), ok;
        undefined -> ok
    end,
    receive {Port, {exit_status, _}} -> ok after 1000 -> ok end,
    catch port_close(Port),
    flush(Port).

flush(Port) ->
    receive {Port, _} -> flush(Port) after 0 -> ok end.

verdict(timeout) ->
    {error, timeout};
verdict({Status, Out, _Err}) when Status =:= 0; Status =:= 1; Status =:= 3 ->
    try ticksplit_json:decode(Out) of
        #{} = Report -> {name(Status), Report};
        _ -> {error, {bad_output, Status, Out}}
    catch error:_ -> {error, {bad_output, Status, Out}}
    end;
verdict({2, Out, Err}) ->
    {error, {usage, text(Err, Out)}};
verdict({Status, Out, Err}) ->
    {error, {exit_status, Status, text(Err, Out)}}.

name(0) -> valid;
name(1) -> invalid;
name(3) -> unknown.

%% The first non-empty of two outputs, without a trailing newline.
text(<<>>, Other) -> string:trim(Other, trailing);
text(Text, _) -> string:trim(Text, trailing).

tmp_dir() ->
    case os:getenv("TMPDIR") of
        false -> "/tmp";
        "" -> "/tmp";
        D -> D
    end.

to_list(X) when is_binary(X) -> binary_to_list(X);
to_list(X) when is_atom(X) -> atom_to_list(X);
to_list(X) -> lists:flatten(X).
