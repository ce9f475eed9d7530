# Finds OTP's erl_interface (ei) by asking the installed Erlang where it lives, so no OTP
# version is hard-coded. Defines the imported target ErlInterface::ei.
find_program(ERL_EXECUTABLE erl)
if(ERL_EXECUTABLE)
  execute_process(
    COMMAND ${ERL_EXECUTABLE} -noshell -eval "io:format(\"~s\", [code:lib_dir(erl_interface)]), halt()."
    OUTPUT_VARIABLE _ei_dir
    RESULT_VARIABLE _ei_rc
    ERROR_QUIET)
endif()

find_path(ErlInterface_INCLUDE_DIR ei.h HINTS ${_ei_dir}/include)
find_library(ErlInterface_LIBRARY NAMES ei HINTS ${_ei_dir}/lib)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ErlInterface
  REQUIRED_VARS ErlInterface_LIBRARY ErlInterface_INCLUDE_DIR)

if(ErlInterface_FOUND AND NOT TARGET ErlInterface::ei)
  find_package(Threads REQUIRED)
  add_library(ErlInterface::ei STATIC IMPORTED)
  set_target_properties(ErlInterface::ei PROPERTIES
    IMPORTED_LOCATION ${ErlInterface_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${ErlInterface_INCLUDE_DIR}
    # ei's errno is thread-local only when built reentrant; without it the link fails on
    # __erl_errno (FINDINGS.md).
    INTERFACE_COMPILE_DEFINITIONS _REENTRANT
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(ErlInterface_INCLUDE_DIR ErlInterface_LIBRARY)
