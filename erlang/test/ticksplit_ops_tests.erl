%% The operation recorder: the lines it writes, with/5's outcomes, Jepsen's process rule,
%% and a golden history (tests/data/history/recorded_ops.jsonl) that the C++ reader's tests
%% read too. Regenerate the golden file after a deliberate format change with
%%   erl -noshell -pa build/erlang/ebin -pa build/erlang/test-ebin \
%%       -eval 'ticksplit_ops_tests:record_golden("tests/data/history/recorded_ops.jsonl"), halt().'
-module(ticksplit_ops_tests).
-include_lib("eunit/include/eunit.hrl").

-export([record_golden/1, data_dir/0]).

-define(N1, 'app@198.51.100.11').
-define(N2, 'app@198.51.100.12').
-define(N3, 'app@198.51.100.13').
-define(T0, 1700000000000000).

%%% Lines

recorded_sequence_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        ok = ticksplit_ops:invoke(R, 0, write, 3, #{key => k1, node => ?N1}),
        ok = ticksplit_ops:invoke(R, 1, read, null),
        ok = ticksplit_ops:complete(R, 1, ok, 7),
        ok = ticksplit_ops:complete(R, 0, ok, 3),
        ok = ticksplit_ops:invoke(R, 0, cas, {3, 4}, #{key => k1}),
        ok = ticksplit_ops:complete(R, 0, fail, {3, 4}, #{error => mismatch}),
        ok = ticksplit_ops:invoke(R, 2, add, 9),
        ok = ticksplit_ops:complete(R, 2, info, 9, #{error => {timeout, 500}}),
        ok = ticksplit_ops:invoke(R, 3, drain, undefined),
        ok = ticksplit_ops:complete(R, 3, ok, [1, 2]),
        ok = ticksplit_ops:note(R, "a note"),
        ok = ticksplit_ops:close(R),
        Lines = lines(File),
        Times = [T || #{<<"time_us">> := T} <- Lines],
        ?assertEqual(length(Lines), length(Times)),
        ?assertEqual(Times, lists:sort(Times)),
        Now = erlang:system_time(microsecond),
        ?assert(lists:all(fun(T) -> T =< Now andalso T > Now - 60000000 end, Times)),
        ?assertEqual(
           [op(invoke, 0, write, 3, #{<<"key">> => <<"k1">>, <<"node">> => a(?N1)}),
            op(invoke, 1, read, null, #{}),
            op(ok, 1, read, 7, #{}),
            op(ok, 0, write, 3, #{<<"key">> => <<"k1">>, <<"node">> => a(?N1)}),
            op(invoke, 0, cas, [3, 4], #{<<"key">> => <<"k1">>}),
            op(fail, 0, cas, [3, 4], #{<<"key">> => <<"k1">>, <<"error">> => <<"mismatch">>}),
            op(invoke, 2, add, 9, #{}),
            op(info, 2, add, 9, #{<<"error">> => <<"{timeout,500}">>}),
            op(invoke, 3, drain, null, #{}),
            op(ok, 3, drain, [1, 2], #{}),
            #{<<"kind">> => <<"note">>, <<"text">> => <<"a note">>}],
           [maps:remove(<<"time_us">>, L) || L <- Lines])
    end).

event_lines_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File, #{clock => clock(?T0, 10)}),
        ok = ticksplit_ops:event(R, #{kind => fault_start, time_us => ?T0 + 50000, fault => <<"f1">>}),
        ok = ticksplit_ops:event(R, #{kind => <<"nodedown">>, observer => ?N1, peer => ?N2}),
        ?assertEqual({error, {badarg, event, #{fault => x}}}, ticksplit_ops:event(R, #{fault => x})),
        ?assertMatch({error, {not_json, _}}, ticksplit_ops:event(R, #{kind => x, pid => self()})),
        ok = ticksplit_ops:note(R, <<"ünïcode \"quoted\""/utf8>>),
        ?assertEqual({error, {badarg, text, [-1]}}, ticksplit_ops:note(R, [-1])),
        ok = ticksplit_ops:close(R),
        ?assertEqual([#{<<"kind">> => <<"fault_start">>, <<"time_us">> => ?T0 + 50000, <<"fault">> => <<"f1">>},
                      #{<<"kind">> => <<"nodedown">>, <<"time_us">> => ?T0 + 10,
                        <<"observer">> => a(?N1), <<"peer">> => a(?N2)},
                      #{<<"kind">> => <<"note">>, <<"time_us">> => ?T0 + 30,   % the refused line took a tick
                        <<"text">> => <<"ünïcode \"quoted\""/utf8>>}],
                     lines(File))
    end).

%% A clock that steps back never makes the file go back in time.
clock_never_goes_back_test() ->
    with_file(fun(File) ->
        Times = [100, 200, 150, 300, 50],
        {ok, Seq} = agent_seq(Times),
        {ok, R} = ticksplit_ops:open(File, #{clock => fun() -> Seq() end}),
        [ok = ticksplit_ops:note(R, integer_to_list(I)) || I <- lists:seq(1, 5)],
        ok = ticksplit_ops:close(R),
        ?assertEqual([100, 200, 200, 300, 300], [T || #{<<"time_us">> := T} <- lines(File)])
    end).

%%% with/5

with_outcomes_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        W = fun(P, F, V, Fun) -> ticksplit_ops:with(R, P, F, V, Fun) end,
        ?assertEqual({ok, 5}, W(0, read, null, fun() -> {ok, 5} end)),
        ?assertEqual({ok, ignored}, W(0, write, 6, fun() -> {ok, ignored} end)),
        ?assertEqual({fail, mismatch}, W(0, cas, [1, 2], fun() -> {fail, mismatch} end)),
        ?assertEqual({info, {throw, oops}}, W(0, write, 7, fun() -> throw(oops) end)),
        ?assertEqual({info, {error, badarith}}, W(1, add, 8, fun() -> error(badarith) end)),
        ?assertEqual({info, {exit, {timeout, x}}}, W(2, enqueue, 9, fun() -> exit({timeout, x}) end)),
        ?assertEqual({info, {bad_return, {error, nope}}}, W(3, write, 1, fun() -> {error, nope} end)),
        ?assertEqual({fail, empty}, W(4, dequeue, null, fun() -> {fail, empty} end)),
        ok = ticksplit_ops:close(R),
        ?assertEqual(
           [{invoke, 0, read, null}, {ok, 0, read, 5},
            {invoke, 0, write, 6}, {ok, 0, write, 6},            % the invoke's value repeated
            {invoke, 0, cas, [1, 2]}, {fail, 0, cas, [1, 2]},
            {invoke, 0, write, 7}, {info, 0, write, 7},
            {invoke, 1, add, 8}, {info, 1, add, 8},
            {invoke, 2, enqueue, 9}, {info, 2, enqueue, 9},
            {invoke, 3, write, 1}, {info, 3, write, 1},
            {invoke, 4, dequeue, null}, {fail, 4, dequeue, null}],
           [summary(L) || L <- lines(File)]),
        Errors = [E || #{<<"error">> := E} <- lines(File)],
        ?assertEqual([<<"mismatch">>, <<"{throw,oops}">>, <<"{error,badarith}">>,
                      <<"{exit,{timeout,x}}">>, <<"{bad_return,{error,nope}}">>, <<"empty">>], Errors)
    end).

with_timeout_kills_the_operation_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        Self = self(),
        Slow = fun() -> Self ! {running, self()}, receive never -> {ok, x} end end,
        ?assertEqual({info, timeout},
                     ticksplit_ops:with(R, 0, write, 1, Slow, #{timeout_ms => 30, node => ?N1})),
        Pid = receive {running, P} -> P end,
        ?assertNot(is_process_alive(Pid)),
        %% within the limit the fun's own result counts; it runs in another process
        ?assertEqual({ok, 2}, ticksplit_ops:with(R, 1, read, null, fun() -> {ok, 2} end,
                                                 #{timeout_ms => 1000})),
        ?assertEqual({info, {exit, boom}},
                     ticksplit_ops:with(R, 2, read, null, fun() -> exit(boom) end, #{timeout_ms => 1000})),
        ok = ticksplit_ops:close(R),
        [_, Info | _] = lines(File),
        ?assertMatch(#{<<"type">> := <<"info">>, <<"error">> := <<"timeout">>,
                       <<"node">> := <<"app@198.51.100.11">>}, Info)
    end).

%% A caller killed mid-operation (a worker the workload gives up on) takes the operation with it.
with_operation_ends_with_its_caller_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        Self = self(),
        Slow = fun() -> Self ! {running, self()}, receive never -> {ok, x} end end,
        {Caller, CRef} = spawn_monitor(fun() -> ticksplit_ops:with(R, 0, write, 1, Slow, #{timeout_ms => 60000}) end),
        Op = receive {running, P} -> P end,
        ORef = monitor(process, Op),
        exit(Caller, kill),
        receive {'DOWN', CRef, process, Caller, killed} -> ok end,
        receive {'DOWN', ORef, process, Op, Why} -> ?assertEqual(killed, Why)
        after 5000 -> ?assert(false)   % the operation outlived its caller
        end,
        ok = ticksplit_ops:close(R)
    end).

with_unencodable_result_is_info_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        ?assertMatch({info, {error, {not_json, _}}},
                     ticksplit_ops:with(R, 0, read, null, fun() -> {ok, self()} end)),
        ok = ticksplit_ops:close(R),
        ?assertEqual([{invoke, 0, read, null}, {info, 0, read, null}], [summary(L) || L <- lines(File)])
    end).

%%% Refusals: nothing written

process_rule_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        ok = ticksplit_ops:invoke(R, 0, write, 1),
        ?assertEqual({error, {busy, 0}}, ticksplit_ops:invoke(R, 0, write, 2)),
        ?assertEqual({error, {busy, 0}}, ticksplit_ops:with(R, 0, read, null, fun() -> error(not_run) end)),
        ok = ticksplit_ops:complete(R, 0, info, 1),
        ?assertEqual({error, {crashed, 0}}, ticksplit_ops:invoke(R, 0, read, null)),
        ?assertEqual({error, {not_invoked, 0}}, ticksplit_ops:complete(R, 0, ok, 1)),
        ?assertEqual({error, {not_invoked, 5}}, ticksplit_ops:complete(R, 5, ok, 1)),
        ok = ticksplit_ops:invoke(R, 1, read, null),
        ok = ticksplit_ops:complete(R, 1, fail, null),
        ok = ticksplit_ops:invoke(R, 1, read, null),          % a fail does not end a process
        ok = ticksplit_ops:complete(R, 1, ok, 1),
        ?assertEqual(2, ticksplit_ops:next_process(R)),
        ok = ticksplit_ops:close(R),
        ?assertEqual([{invoke, 0, write, 1}, {info, 0, write, 1},
                      {invoke, 1, read, null}, {fail, 1, read, null},
                      {invoke, 1, read, null}, {ok, 1, read, 1}],
                     [summary(L) || L <- lines(File)])
    end).

bad_arguments_test() ->
    with_file(fun(File) ->
        {ok, R} = ticksplit_ops:open(File),
        ?assertEqual({error, {badarg, f, get}}, ticksplit_ops:invoke(R, 0, get, null)),
        ?assertEqual({error, {badarg, f, "read"}}, ticksplit_ops:invoke(R, 0, "read", null)),
        ?assertEqual({error, {badarg, process, -1}}, ticksplit_ops:invoke(R, -1, read, null)),
        ?assertEqual({error, {badarg, process, p1}}, ticksplit_ops:invoke(R, p1, read, null)),
        ?assertEqual({error, {badarg, value, {read, 1}}}, ticksplit_ops:invoke(R, 0, read, 1)),
        ?assertEqual({error, {badarg, value, {drain, []}}}, ticksplit_ops:invoke(R, 0, drain, [])),
        ?assertEqual({error, {badarg, opts, #{colour => red}}},
                     ticksplit_ops:invoke(R, 0, write, 1, #{colour => red})),
        ?assertMatch({error, {not_json, {unencodable, _}}}, ticksplit_ops:invoke(R, 0, write, self())),
        ?assertMatch({error, {not_json, {bad_key, _}}},
                     ticksplit_ops:invoke(R, 0, write, #{{a} => 1})),
        ?assertEqual({error, {badarg, timeout_ms, 0}},
                     ticksplit_ops:with(R, 0, write, 1, fun() -> {ok, 1} end, #{timeout_ms => 0})),
        ok = ticksplit_ops:invoke(R, 0, write, 1),            % the refusals left process 0 free
        ?assertEqual({error, {badarg, type, done}}, ticksplit_ops:complete(R, 0, done, 1)),
        ?assertMatch({error, {not_json, _}}, ticksplit_ops:complete(R, 0, ok, make_ref())),
        ok = ticksplit_ops:complete(R, 0, ok, 1),
        ok = ticksplit_ops:close(R),
        ?assertEqual([{invoke, 0, write, 1}, {ok, 0, write, 1}], [summary(L) || L <- lines(File)])
    end).

open_error_test() ->
    ?assertMatch({error, {"/nonexistent-dir/x.jsonl", enoent}}, ticksplit_ops:open("/nonexistent-dir/x.jsonl")),
    ?assertEqual({error, {badarg, clock, 42}}, ticksplit_ops:open("/tmp/unused", #{clock => 42})),
    ?assertNot(filelib:is_file("/tmp/unused")).

%%% The golden history, shared with the C++ reader's tests

golden_file_test() ->
    Golden = filename:join([data_dir(), "history", "recorded_ops.jsonl"]),
    {ok, Expected} = file:read_file(Golden),
    with_file(fun(File) ->
        ok = record_golden(File),
        {ok, Recorded} = file:read_file(File),
        ?assertEqual(Expected, Recorded)
    end).

%% A small cas-register history over two keys that stays linearizable: writes, reads, a cas
%% that succeeds and one that fails, an indeterminate write and its process going on as a new
%% one, a note with characters to escape, and the nemesis's lines around it.
-spec record_golden(file:filename()) -> ok.
record_golden(File) ->
    {ok, R} = ticksplit_ops:open(File, #{clock => clock(?T0, 1000)}),
    K1 = #{key => <<"k1">>},
    K2 = #{key => <<"k2">>},
    ok = ticksplit_ops:note(R, <<"golden history for the readers' tests: \"cas-register\", 2 keys\n">>),
    ok = ticksplit_ops:invoke(R, 0, write, 1, K1#{node => ?N1}),
    ok = ticksplit_ops:invoke(R, 1, read, null, K1#{node => ?N2}),
    ok = ticksplit_ops:complete(R, 0, ok, 1),
    ok = ticksplit_ops:complete(R, 1, ok, 1),
    ok = ticksplit_ops:event(R, #{kind => fault_start, time_us => ?T0 + 5500, fault => <<"golden-1">>,
                                  number => 1, shape => isolate,
                                  groups => [[?N3], [?N1, ?N2]],
                                  drop_sets => #{?N1 => [?N3], ?N2 => [?N3], ?N3 => [?N1, ?N2]},
                                  requested_ms => 3000, requested => above_window,
                                  window_class => above_window}),
    ok = ticksplit_ops:invoke(R, 0, cas, {1, 2}, K1#{node => ?N1}),
    ok = ticksplit_ops:invoke(R, 2, write, 10, K2#{node => ?N3}),
    ok = ticksplit_ops:complete(R, 0, ok, {1, 2}),
    ok = ticksplit_ops:invoke(R, 1, cas, [1, 3], K1#{node => ?N2}),
    ok = ticksplit_ops:complete(R, 1, fail, [1, 3], #{error => mismatch}),
    ok = ticksplit_ops:event(R, #{kind => nodedown, time_us => ?T0 + 9000, observer => ?N1,
                                  peer => ?N3, reason => net_tick_timeout, node_type => visible,
                                  agent => 'ticksplit@198.51.100.11'}),
    ok = ticksplit_ops:complete(R, 2, info, 10, #{error => timeout}),
    ok = ticksplit_ops:invoke(R, 1, read, null, K2#{node => ?N2}),
    ok = ticksplit_ops:complete(R, 1, ok, 10),               % the indeterminate write took effect
    ok = ticksplit_ops:event(R, #{kind => fault_end, time_us => ?T0 + 12500, fault => <<"golden-1">>,
                                  dropped_packets => 17, heal_observed => true}),
    ok = ticksplit_ops:invoke(R, 5, read, null, K1#{node => ?N3}),   % process 2 goes on as 2 + 3
    ok = ticksplit_ops:complete(R, 5, ok, 2),
    ok = ticksplit_ops:invoke(R, 0, write, 11, K2#{node => ?N1}),
    ok = ticksplit_ops:complete(R, 0, ok, 11),
    ok = ticksplit_ops:close(R).

%% tests/data of the repository: $TICKSPLIT_TEST_DATA, else found from this source file.
-spec data_dir() -> file:filename().
data_dir() ->
    case os:getenv("TICKSPLIT_TEST_DATA") of
        Dir when is_list(Dir), Dir =/= "" -> Dir;
        _ -> filename:join([filename:dirname(?FILE), "..", "..", "tests", "data"])
    end.

%%% Helpers

with_file(Fun) ->
    Dir = filename:join(tmp(), "ticksplit_ops_tests-" ++ integer_to_list(erlang:unique_integer([positive]))),
    ok = filelib:ensure_path(Dir),
    File = filename:join(Dir, "ops.jsonl"),
    try Fun(File)
    after
        _ = file:delete(File),
        _ = file:del_dir(Dir)
    end.

tmp() ->
    case os:getenv("TMPDIR") of
        D when is_list(D), D =/= "" -> D;
        _ -> "/tmp"
    end.

lines(File) ->
    {ok, Bin} = file:read_file(File),
    ?assertEqual($\n, binary:last(Bin)),
    [ticksplit_json:decode(L) || L <- binary:split(Bin, <<"\n">>, [global, trim_all])].

op(Type, P, F, V, Extra) ->
    maps:merge(Extra, #{<<"kind">> => <<"op">>, <<"type">> => a(Type), <<"process">> => P,
                        <<"f">> => a(F), <<"value">> => V}).

summary(#{<<"type">> := T, <<"process">> := P, <<"f">> := F, <<"value">> := V}) ->
    {binary_to_atom(T), P, binary_to_atom(F), V}.

a(Atom) -> atom_to_binary(Atom).

%% Times T0 + Step, T0 + 2 Step, ...
clock(T0, Step) ->
    Counter = atomics:new(1, []),
    fun() -> T0 + Step * atomics:add_get(Counter, 1, 1) end.

%% A clock that returns the given times in turn.
agent_seq(Times) ->
    Counter = atomics:new(1, []),
    T = list_to_tuple(Times),
    {ok, fun() -> element(atomics:add_get(Counter, 1, 1), T) end}.
