# Turns a text file into a C++ raw string literal: constexpr std::string_view NAME = R"...";
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "constexpr std::string_view ${NAME} = R\"shcx_embed(${CONTENT})shcx_embed\";\n")
