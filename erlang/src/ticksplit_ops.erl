%% @doc Records client operations as a JSON Lines history that `ticksplit-ctl check' reads,
%% next to the faults and nodedowns of the same run.
%%
%% One operation is two lines, an invoke before it starts and a completion after it ended:
%% ```
%% {"f":"write","key":"k1","kind":"op","node":"app@10.0.0.1","process":3,"time_us":1700000000000000,"type":"invoke","value":5}
%% {"f":"write","key":"k1","kind":"op","node":"app@10.0.0.1","process":3,"time_us":1700000000001250,"type":"ok","value":5}
%% '''
%% `type' is `invoke', `ok' (it took effect), `fail' (it certainly did not) or `info' (it may
%% have, or may yet: a timeout, a lost connection, a crash). `f' is one of read, write, cas,
%% append, add, enqueue, dequeue, drain. `value' is `null' on the invoke of a read, dequeue or
%% drain, `[From, To]' for a cas, an array for a set read or a drain. `key' and `node' (the
%% node the client used) appear when given; a completion repeats its invoke's `f', `key' and
%% `node'; `error' (a text) may explain a fail or an info. Other lines: notes
%% (`{"kind":"note","text":...,"time_us":...}') and any kind written with event/2 (the
%% workload's `fault_start', `fault_end', `nodedown', `nodeup'). Members come in key order
%% (ticksplit_json).
%%
%% <b>Times.</b> The recorder is one process that stamps `time_us' (unix µs, never going
%% back: the largest of the clock and the last stamp) when it handles each request, and
%% every request is a synchronous call. Since invoke/4 returns before the operation starts
%% and complete/4 is called after it ended, each recorded interval contains the real one,
%% and the order of op and note lines in the file is their order in time. Lines given their
%% own `time_us' (event/2: a fault starts in the future, an agent's nodedown happened a
%% little earlier) break that order; the checker sorts by time.
%%
%% <b>Processes.</b> As in Jepsen, a process runs one operation at a time and, once an
%% operation of it ended with `info', never invokes again (the client goes on as a new
%% process). The recorder refuses, writing nothing, an invoke on a process with an operation
%% open (`{busy, P}') or after an info (`{crashed, P}'), and a completion without an invoke
%% (`{not_invoked, P}').
%%
%% Each line is handed to the operating system as it is recorded (a raw file without
%% buffering), so a crashing VM loses nothing recorded; an invoke left without completion
%% counts as `info' for the checker.
-module(ticksplit_ops).
-behaviour(gen_server).

-export([open/1, open/2, invoke/4, invoke/5, complete/4, complete/5, note/2, note/3, event/2,
         with/5, with/6, next_process/1, close/1]).
-export([init/1, handle_call/3, handle_cast/2]).
-export_type([recorder/0, f/0, outcome/0, op_options/0]).

-type recorder() :: pid().
-type f() :: read | write | cas | append | add | enqueue | dequeue | drain.
-type op_options() :: #{key => term(), node => node(), error => term(), timeout_ms => pos_integer()}.
%% `key' and `node' are written on the line; `error' on a completion (as text);
%% `timeout_ms' is for with/6 only.
-type outcome() :: {ok, term()} | {fail, term()} | {info, term()} | {error, term()}.

-define(FS, [read, write, cas, append, add, enqueue, dequeue, drain]).
-define(NO_ARG, [read, dequeue, drain]).        % their invoke's value is null
-define(ERROR_TEXT_MAX, 500).

%%% API

%% @doc Opens (truncating) a history file and starts its recorder, linked to the caller.
-spec open(file:filename_all()) -> {ok, recorder()} | {error, term()}.
open(File) ->
    open(File, #{}).

%% @doc As open/1 with options: `clock => fun(() -> integer())', the unix µs time source
%% (default `erlang:system_time(microsecond)'; tests give a fixed sequence).
-spec open(file:filename_all(), #{clock => fun(() -> integer())}) -> {ok, recorder()} | {error, term()}.
open(File, Opts) ->
    case Opts of
        #{clock := C} when not is_function(C, 0) -> {error, {badarg, clock, C}};
        _ ->
            Clock = maps:get(clock, Opts, fun() -> erlang:system_time(microsecond) end),
            %% The recorder must open the file itself (a raw file belongs to its opener);
            %% trying here first makes a bad path an error value rather than a crash report,
            %% and linking once it runs keeps its exit signal from the caller.
            case file:open(File, [write, raw]) of
                {ok, Fd} ->
                    ok = file:close(Fd),
                    case gen_server:start(?MODULE, {File, Clock}, []) of
                        {ok, Rec} -> true = link(Rec), {ok, Rec};
                        Error -> Error
                    end;
                {error, Why} ->
                    {error, {File, Why}}
            end
    end.

%% @doc Records the invoke of an operation of `Process' (a non-negative integer).
-spec invoke(recorder(), non_neg_integer(), f(), term()) -> ok | {error, term()}.
invoke(Rec, Process, F, Value) ->
    invoke(Rec, Process, F, Value, #{}).

%% @doc As invoke/4 with `key' and `node' for the line.
-spec invoke(recorder(), non_neg_integer(), f(), term(), op_options()) -> ok | {error, term()}.
invoke(Rec, Process, F, Value, Opts) ->
    checked([check_process(Process), check_f(F), check_opts(Opts, [key, node]),
             check_arg(F, Value)],
            fun() -> call(Rec, {invoke, Process, F, Value, Opts}) end).

%% @doc Records how the open operation of `Process' completed: `ok', `fail' or `info'.
-spec complete(recorder(), non_neg_integer(), ok | fail | info, term()) -> ok | {error, term()}.
complete(Rec, Process, Type, Value) ->
    complete(Rec, Process, Type, Value, #{}).

%% @doc As complete/4 with options: `error' (why it failed, any term, written as text);
%% `key' and `node' override the invoke's.
-spec complete(recorder(), non_neg_integer(), ok | fail | info, term(), op_options()) ->
          ok | {error, term()}.
complete(Rec, Process, Type, Value, Opts) ->
    checked([check_process(Process), check_type(Type), check_opts(Opts, [key, node, error])],
            fun() -> call(Rec, {complete, Process, Type, Value, Opts}) end).

%% @doc Records a note, `{"kind":"note","text":Text,"time_us":T}'.
-spec note(recorder(), unicode:chardata()) -> ok | {error, term()}.
note(Rec, Text) ->
    case unicode:characters_to_binary(Text) of
        B when is_binary(B) -> call(Rec, {line, #{kind => note, text => B}});
        _ -> {error, {badarg, text, Text}}
    end.

%% @doc Records a note formatted as io_lib:format/2 does (`~tp' of any term is safe: the text
%% may hold any character).
-spec note(recorder(), io:format(), [term()]) -> ok | {error, term()}.
note(Rec, Format, Args) ->
    note(Rec, io_lib:format(Format, Args)).

%% @doc Records a line of any other kind: a map with `kind' (atom or binary) and any
%% JSON-encodable members; `time_us' is stamped if absent.
-spec event(recorder(), map()) -> ok | {error, term()}.
event(Rec, #{kind := K} = Line) when is_atom(K); is_binary(K) ->
    call(Rec, {line, Line});
event(_, Line) ->
    {error, {badarg, event, Line}}.

%% @doc Records an operation around `Fun': the invoke, then Fun's outcome.
%% `{ok, V}' completes as ok with value V for read, dequeue and drain and with the invoke's
%% value for the others (as Jepsen repeats a write's value); `{fail, Why}' as fail (it did
%% not take effect); an exception, an exit or any other return as info (it may have).
%% Returns `{ok, V}', `{fail, Why}', `{info, Why}' (Why: `{Class, Reason}' of an exception,
%% `timeout', `{bad_return, X}'), or `{error, Refusal}' when the recorder refused the invoke
%% (Fun is not run then).
-spec with(recorder(), non_neg_integer(), f(), term(), fun(() -> term())) -> outcome().
with(Rec, Process, F, Value, Fun) ->
    with(Rec, Process, F, Value, Fun, #{}).

%% @doc As with/5 with `key' and `node' for the lines and `timeout_ms': Fun then runs in a
%% process of its own that is killed if it has not returned after that long (an info, Why
%% `timeout'), so Fun must not depend on the calling process.
-spec with(recorder(), non_neg_integer(), f(), term(), fun(() -> term()), op_options()) -> outcome().
with(Rec, Process, F, Value, Fun, Opts) ->
    case checked([check_opts(Opts, [key, node, timeout_ms]), check_timeout(Opts)],
                 fun() -> invoke(Rec, Process, F, Value, maps:with([key, node], Opts)) end) of
        ok ->
            Outcome = outcome(run(Fun, maps:get(timeout_ms, Opts, infinity))),
            {Type, Recorded} = completion(Outcome, F, Value),
            Extra = case Outcome of
                        {ok, _} -> #{};
                        {_, Why} -> #{error => Why}
                    end,
            case complete(Rec, Process, Type, Recorded, Extra) of
                ok -> Outcome;
                {error, {not_json, _}} = Refused when Type =/= info ->
                    %% A value that cannot be written: say so, conservatively as info.
                    ok = complete(Rec, Process, info, Value, #{error => Refused}),
                    {info, Refused};
                Error -> Error
            end;
        Error ->
            Error
    end.

%% @doc The smallest process number not used yet in this history (for a second workload
%% sharing the recorder).
-spec next_process(recorder()) -> non_neg_integer().
next_process(Rec) ->
    call(Rec, next_process).

%% @doc Closes the file and stops the recorder.
-spec close(recorder()) -> ok.
close(Rec) ->
    call(Rec, close).

%%% Running an operation

run(Fun, infinity) ->
    try {returned, Fun()}
    catch Class:Reason -> {raised, Class, Reason}
    end;
run(Fun, TimeoutMs) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({'$ticksplit_ops', run(Fun, infinity)}) end),
    reap_with(self(), Pid),
    receive
        {'DOWN', Ref, process, Pid, {'$ticksplit_ops', Result}} -> Result;
        {'DOWN', Ref, process, Pid, Other} -> {raised, exit, Other}
    after TimeoutMs ->
            exit(Pid, kill),
            receive {'DOWN', Ref, process, Pid, _} -> ok end,
            timeout
    end.

%% The operation must not outlive its caller (a worker the workload kills, a test that gives
%% up). A link would do that, but would also kill the caller whenever the operation dies of
%% an exit signal, which must stay an indeterminate outcome; so a watcher of both ends it.
reap_with(Caller, Pid) ->
    spawn(fun() ->
                  C = monitor(process, Caller),
                  P = monitor(process, Pid),
                  receive
                      {'DOWN', C, process, Caller, _} -> exit(Pid, kill);
                      {'DOWN', P, process, Pid, _} -> ok
                  end
          end),
    ok.

outcome({returned, {ok, V}}) -> {ok, V};
outcome({returned, {fail, Why}}) -> {fail, Why};
outcome({returned, Other}) -> {info, {bad_return, Other}};
outcome({raised, Class, Reason}) -> {info, {Class, Reason}};
outcome(timeout) -> {info, timeout}.

completion({ok, V}, F, _) when F =:= read; F =:= dequeue; F =:= drain -> {ok, V};
completion({ok, _}, _, Value) -> {ok, Value};
completion({fail, _}, F, _) when F =:= read; F =:= dequeue; F =:= drain -> {fail, null};
completion({fail, _}, _, Value) -> {fail, Value};
completion({info, _}, F, _) when F =:= read; F =:= dequeue; F =:= drain -> {info, null};
completion({info, _}, _, Value) -> {info, Value}.

%%% Argument checks (in the caller: a bad argument never reaches the file)

checked(Checks, Then) ->
    case [E || {error, _} = E <- Checks] of
        [] -> Then();
        [First | _] -> First
    end.

check_process(P) when is_integer(P), P >= 0 -> ok;
check_process(P) -> {error, {badarg, process, P}}.

check_f(F) ->
    case lists:member(F, ?FS) of
        true -> ok;
        false -> {error, {badarg, f, F}}
    end.

check_type(T) when T =:= ok; T =:= fail; T =:= info -> ok;
check_type(T) -> {error, {badarg, type, T}}.

check_opts(Opts, Allowed) when is_map(Opts) ->
    case maps:keys(Opts) -- Allowed of
        [] -> ok;
        _ -> {error, {badarg, opts, Opts}}
    end;
check_opts(Opts, _) -> {error, {badarg, opts, Opts}}.

check_timeout(#{timeout_ms := T}) when not is_integer(T); T < 1 -> {error, {badarg, timeout_ms, T}};
check_timeout(_) -> ok.

check_arg(F, V) ->
    case lists:member(F, ?NO_ARG) andalso not lists:member(V, [null, undefined, nil]) of
        true -> {error, {badarg, value, {F, V}}};
        false -> ok
    end.

call(Rec, Request) ->
    gen_server:call(Rec, Request, infinity).

%%% The recorder

%% @private
-spec init({file:filename_all(), fun(() -> integer())}) -> {ok, map()} | {stop, term()}.
init({File, Clock}) ->
    case file:open(File, [write, raw, binary]) of
        {ok, Fd} ->
            {ok, #{fd => Fd, file => File, clock => Clock, last_us => undefined,
                   open => #{}, crashed => #{}, next => 0}};
        {error, Why} ->
            {stop, {File, Why}}
    end.

%% @private
-spec handle_call(term(), gen_server:from(), map()) ->
          {reply, term(), map()} | {stop, normal, ok, map()}.
handle_call({invoke, P, _, _, _}, _, #{open := Open} = S) when is_map_key(P, Open) ->
    {reply, {error, {busy, P}}, S};
handle_call({invoke, P, _, _, _}, _, #{crashed := Crashed} = S) when is_map_key(P, Crashed) ->
    {reply, {error, {crashed, P}}, S};
handle_call({invoke, P, F, Value, Opts}, _, #{open := Open, next := Next} = S0) ->
    Line = maps:merge(Opts, #{kind => op, type => invoke, process => P, f => F, value => Value}),
    case write(Line, S0) of
        {ok, S} -> {reply, ok, S#{open := Open#{P => maps:with([f, key, node], Line)},
                                  next := max(Next, P + 1)}};
        Error -> {reply, Error, S0}
    end;
handle_call({complete, P, Type, Value, Opts}, _, #{open := Open, crashed := Crashed} = S0) ->
    case Open of
        #{P := Invoked} ->
            Line0 = maps:merge(Invoked, Opts#{kind => op, type => Type, process => P, value => Value}),
            Line = case Opts of
                       #{error := Why} -> Line0#{error := error_text(Why)};
                       _ -> Line0
                   end,
            case write(Line, S0) of
                {ok, S} ->
                    Crashed1 = case Type of
                                   info -> Crashed#{P => true};
                                   _ -> Crashed
                               end,
                    {reply, ok, S#{open := maps:remove(P, Open), crashed := Crashed1}};
                Error ->
                    {reply, Error, S0}
            end;
        _ ->
            {reply, {error, {not_invoked, P}}, S0}
    end;
handle_call({line, Line}, _, S0) ->
    case write(Line, S0) of
        {ok, S} -> {reply, ok, S};
        Error -> {reply, Error, S0}
    end;
handle_call(next_process, _, #{next := Next} = S) ->
    {reply, Next, S};
handle_call(close, _, #{fd := Fd} = S) ->
    ok = file:close(Fd),
    {stop, normal, ok, S};
handle_call(Other, _, S) ->
    {reply, {error, {unknown_request, Other}}, S}.

%% @private
-spec handle_cast(term(), map()) -> {noreply, map()}.
handle_cast(_, S) ->
    {noreply, S}.

%% Stamps the line unless it has its own time, encodes and writes it. A line that cannot be
%% encoded is refused and the stamp not taken.
write(Line0, #{fd := Fd, clock := Clock, last_us := Last} = S) ->
    {Line, Stamp} = case Line0 of
                        #{time_us := T} when is_integer(T) -> {Line0, Last};
                        _ ->
                            Now = case Last of
                                      undefined -> Clock();
                                      _ -> max(Clock(), Last)
                                  end,
                            {Line0#{time_us => Now}, Now}
                    end,
    try ticksplit_json:encode(Line) of
        Json ->
            case file:write(Fd, [Json, $\n]) of
                ok -> {ok, S#{last_us := Stamp}};
                {error, Why} -> {error, {write, Why}}
            end
    catch error:Why -> {error, {not_json, Why}}
    end.

error_text(Why) when is_binary(Why) -> Why;
error_text(Why) ->
    Text = unicode:characters_to_binary(io_lib:format("~0tp", [Why])),
    case string:length(Text) > ?ERROR_TEXT_MAX of
        true -> <<(string:slice(Text, 0, ?ERROR_TEXT_MAX))/binary, "...">>;
        false -> Text
    end.
