%% A ticksplit_client for the workload's tests: registers (one per key) in a public ETS
%% table of the test, on the test's own node, with hooks to make operations slow, throw, or
%% fail opening. Options: `table' (required), `slow' (a fun(Op) -> boolean(): sleep past any
%% timeout), `throw' (every operation throws), `open_fails' (a fun() -> boolean() | hang,
%% asked at every open), `log' (a pid told of every open and close).
-module(ticksplit_local_register_client).
-behaviour(ticksplit_client).

-export([open/2, invoke/3, close/1]).

-spec open(node(), map()) -> {ok, map()} | {error, term()}.
open(Node, #{table := _} = Opts) ->
    tell(Opts, {open, Node}),
    case maps:get(open_fails, Opts, fun() -> false end) of
        F when is_function(F, 0) ->
            case F() of
                true -> {error, refused};
                hang -> receive never -> {error, never} end;
                false -> {ok, Opts#{node => Node}}
            end
    end.

-spec invoke(ticksplit_client:op(), pos_integer(), map()) -> {ok, term()} | {fail, term()}.
invoke(Op, _Timeout, #{table := Tab} = S) ->
    Slow = maps:get(slow, S, fun(_) -> false end),
    case Slow(Op) of
        true -> receive never -> ok end;
        false -> ok
    end,
    maps:get(throw, S, false) andalso throw(injected),
    Key = maps:get(key, Op, register),
    case Op of
        #{f := read} ->
            case ets:lookup(Tab, Key) of
                [{_, V}] -> {ok, V};
                [] -> {ok, null}
            end;
        #{f := write, value := V} ->
            true = ets:insert(Tab, {Key, V}),
            {ok, V};
        #{f := cas, value := {From, To}} ->
            ets:insert_new(Tab, {Key, null}),
            case ets:select_replace(Tab, [{{Key, From}, [], [{const, {Key, To}}]}]) of
                1 -> {ok, [From, To]};
                0 -> {fail, mismatch}
            end;
        #{f := F} ->
            {fail, {unsupported, F}}
    end.

-spec close(map()) -> ok.
close(S) ->
    tell(S, {close, maps:get(node, S)}),
    ok.

tell(#{log := Pid}, Msg) -> Pid ! {?MODULE, Msg}, ok;
tell(_, _) -> ok.
