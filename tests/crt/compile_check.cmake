# ctest script: compiles the crt sources and the headers' users with one
# compiler, warnings as errors, so both gcc and clang are checked whichever
# builds the project.
#   cmake -DCC=<C compiler> -DCXX=<C++ compiler> -DSRC=<repo> -DOUT=<dir> -P compile_check.cmake
set(warn -Wall -Wextra -Wshadow -Wformat=2 -Wimplicit-fallthrough -Werror)
set(inc -I${SRC}/crt/include -I${SRC}/crt/src)
file(MAKE_DIRECTORY ${OUT})
function(compile)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed: ${cmd}\n${out}${err}")
  endif()
endfunction()

if(CC)
  file(GLOB sources ${SRC}/crt/src/*.c)
  foreach(source IN LISTS sources)
    get_filename_component(name ${source} NAME_WE)
    compile(${CC} -std=c11 -O2 -fPIC -fvisibility=hidden ${warn} ${inc} -c ${source} -o ${OUT}/${name}.o)
  endforeach()
  compile(${CC} -std=c11 -O2 -fPIC -ffreestanding -fno-builtin -fno-stack-protector -fno-jump-tables ${warn} ${inc}
          -c ${SRC}/crt/src/tp_crt0.c -o ${OUT}/tp_crt0_freestanding.o)
  compile(${CC} -fPIC -c ${SRC}/crt/src/tp_start.S -o ${OUT}/tp_start.o)
  foreach(std c99 c11 gnu17)
    compile(${CC} -std=${std} ${warn} ${inc} -c ${SRC}/tests/crt/export_c.c -o ${OUT}/export_c_${std}.o)
  endforeach()
endif()
if(CXX)
  foreach(std c++17 c++20)
    compile(${CXX} -std=${std} ${warn} ${inc} -c ${SRC}/tests/crt/export_cpp.cpp -o ${OUT}/export_cpp_${std}.o)
  endforeach()
  compile(${CXX} -std=c++20 ${warn} -Wnon-virtual-dtor -Wpedantic ${inc} -c ${SRC}/tests/crt/hpp_compile.cpp
          -o ${OUT}/hpp_compile.o)
endif()
