#!/usr/bin/env escript
%% Writes the seed corpus of agent_input_fuzz (tests/fuzz/corpus/): real handshakes and real
%% distribution packets carrying each request the agent serves, made with Erlang's own
%% term_to_binary. Usage: make_corpus.escript DIR
-mode(compile).

main([Dir]) ->
    ok = filelib:ensure_path(Dir),
    Pid = binary_to_term(<<131, 88, 119, 16, "ctl@198.51.100.1", 1:32, 0:32, 1:32>>),
    Ref = make_ref(),
    Requests = [status, {events, 0}, {subscribe, Pid}, {unsubscribe, Pid}, {heal, <<"f1">>}, heal_all,
                {partition, #{peers => [<<"198.51.100.12">>, <<"app@198.51.100.13">>], duration_ms => 3000}},
                {partition, #{peers => [<<"2001:db8::/116">>], duration_ms => 3000, direction => both,
                              start_at_us => 1795300000000000, id => <<"x">>}},
                {partition, #{peers => [<<"198.51.100.12">>], duration_ms => 2000, loss => 0.3}}],
    Calls = [{'$gen_call', {Pid, Ref}, R} || R <- Requests],
    Packets = [packet(6, Pid, ticksplit, C) || C <- Calls]
        ++ [<<0:32>>, packet(6, Pid, net_kernel, {'$gen_call', {Pid, Ref}, {is_auth, node()}})],
    [write(Dir, "packet_" ++ integer_to_list(I), <<0, P/binary>>) || {I, P} <- lists:enumerate(Packets)],
    write(Dir, "packets_all", <<0, (iolist_to_binary(Packets))/binary>>),
    %% kill_process: its request, and the watcher's report on it as ticksplit_watcher sends it
    write(Dir, "kill_process_request",
          <<0, (packet(6, Pid, ticksplit,
                       {'$gen_call', {Pid, Ref},
                        {kill_process, #{node => 'app@198.51.100.11', supervisor => ts_sup, restart_window_ms => 500,
                                         start_at_us => 1795300000000000, id => <<"k">>}}}))/binary>>),
    write(Dir, "watcher_fault_report",
          <<0, (packet(6, Pid, ticksplit,
                       {ticksplit_watcher, 'app@198.51.100.11', fault, process_killed, <<"k">>,
                        [{target, child_of}, {supervisor, ts_sup}, {child_id, <<"worker">>}, {pid, <<"<0.90.0>">>},
                         {killed_us, 1795300000000400}, {restarted, true}, {new_pid, <<"<0.95.0>">>},
                         {restarted_us, 1795300000002400}, {error, <<>>}]}))/binary>>),
    Name = <<"ctl@198.51.100.1">>,
    NameMsg = hs(<<$N, 16#407074f9c:64, 1:32, (byte_size(Name)):16, Name/binary>>),
    Reply = hs(<<$r, 7:32, (erlang:md5(<<"cookie1234567">>))/binary>>),
    Old = hs(<<$n, 5:16, 16#07074f9c:32, Name/binary>>),
    Complement = hs(<<$c, 16#4:32, 1:32>>),
    write(Dir, "handshake_v6", <<41, NameMsg/binary, Reply/binary, (hd(Packets))/binary>>),
    write(Dir, "handshake_v6_bytewise", <<1, NameMsg/binary, Reply/binary>>),
    write(Dir, "handshake_v6_chunks", <<9, NameMsg/binary, Reply/binary, (lists:last(Packets))/binary>>),
    write(Dir, "handshake_v5", <<3, Old/binary, Complement/binary, Reply/binary>>),
    ok.

packet(6, From, To, Msg) ->
    Body = <<112, (term_to_binary({6, From, '', To}))/binary, (term_to_binary(Msg))/binary>>,
    <<(byte_size(Body)):32, Body/binary>>.

hs(M) -> <<(byte_size(M)):16, M/binary>>.

write(Dir, Name, Bytes) -> ok = file:write_file(filename:join(Dir, Name), Bytes).
